import pytest

from tests.refunds.gateways import ScriptedGateway


@pytest.fixture
def scripted_gateway(settings):
    settings.REFUND_CARD_GATEWAY = "tests.refunds.gateways.ScriptedGateway"
    ScriptedGateway.reset()
    yield ScriptedGateway
    ScriptedGateway.reset()
