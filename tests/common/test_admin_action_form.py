"""A big table's action form is Django's, its widgets rendered once and reused."""

from unittest import mock

import pytest
from django.contrib.admin.helpers import ActionForm
from django.forms.renderers import DjangoTemplates
from django.utils import translation

from common.admin import ChangeListActionForm, RenderedOnce

CHOICES = [("", "---------"), ("approve", "Approve the selected requests"), ("reject", "Reject <them> & go")]


def rendered(form_class, data=None):
    form = form_class(data, auto_id=None)
    form.fields["action"].choices = CHOICES
    return [str(field) for field in form]


@pytest.fixture(autouse=True)
def nothing_rendered_yet():
    RenderedOnce.rendered.clear()


@pytest.mark.parametrize("data", [None, {"action": "reject", "select_across": "1"}, {"action": "<nope>"}])
@pytest.mark.parametrize("language", ["en", "tr"])
def test_the_form_renders_as_djangos(data, language):
    with translation.override(language):
        first, again = rendered(ChangeListActionForm, data), rendered(ChangeListActionForm, data)

        assert first == again == rendered(ActionForm, data)


def test_a_widget_is_rendered_once_for_the_same_choices_and_again_for_others():
    with mock.patch.object(DjangoTemplates, "render", autospec=True, side_effect=DjangoTemplates.render) as render:
        rendered(ChangeListActionForm)
        rendered(ChangeListActionForm)
        assert render.call_count == 2  # the select and the hidden input, once

        form = ChangeListActionForm(auto_id=None)
        form.fields["action"].choices = CHOICES[:2]
        html = str(form["action"])

    assert render.call_count == 3
    assert "Reject" not in html
