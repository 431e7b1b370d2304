"""gunicorn.conf.py's worker hook: what a worker allocated while loading the application is frozen out of the
garbage collector's generations."""

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_post_worker_init_freezes_what_the_worker_loaded():
    hooks = runpy.run_path(str(CONF))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
