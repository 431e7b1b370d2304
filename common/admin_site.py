"""The admin site: Django's, with the app list built only when a page shows it.

Django puts the list of every app and model the user may see (`available_apps`, a permission check and two URL
reversals per model) into the context of every admin page, for the navigation sidebar, which this admin turns off
(common.dashboard): on a changelist it was a tenth of the page's time, for nothing shown. The index and an app's
page still show it, read when their template reads it.
"""

from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.sites import AdminSite
from django.utils.functional import SimpleLazyObject


class OpsAdminSite(AdminSite):
    def get_app_list(self, request, app_label=None):
        """Django's app list, built when first read; it reads as the list (iterated, indexed, counted, tested)."""
        return SimpleLazyObject(lambda: super(OpsAdminSite, self).get_app_list(request, app_label))


class OpsAdminConfig(AdminConfig):
    """django.contrib.admin, with OpsAdminSite as `admin.site`."""

    default_site = "common.admin_site.OpsAdminSite"
