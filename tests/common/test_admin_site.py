"""The admin site builds its list of apps and models only for a page that shows it."""

from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.urls import reverse

from common.admin_site import OpsAdminSite


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def test_the_admin_site_is_the_ops_site():
    assert isinstance(admin.site._wrapped, OpsAdminSite)


@pytest.mark.django_db
def test_a_changelist_does_not_build_the_app_list_it_does_not_show(admin_client):
    assert admin.site.enable_nav_sidebar is False  # the only part of a changelist that shows it

    with mock.patch.object(AdminSite, "_build_app_dict", autospec=True, side_effect=AdminSite._build_app_dict) as built:
        response = admin_client.get(reverse("admin:orders_order_changelist"))

    assert response.status_code == 200
    built.assert_not_called()


@pytest.mark.django_db
def test_the_index_and_an_apps_page_still_list_the_models(admin_client):
    index = admin_client.get(reverse("admin:index"))
    app = admin_client.get(reverse("admin:app_list", args=["orders"]))

    assert {model["object_name"] for model in app.context["app_list"][0]["models"]} == {
        "Customer",
        "Order",
        "OrderEvent",
        "OrderItem",
        "Product",
    }
    assert reverse("admin:orders_order_changelist") in app.content.decode()
    assert "orders" in [entry["app_label"] for entry in index.context["app_list"]]
