from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cancellations.views import (
    CancellationPlanViewSet,
    CancellationReasonViewSet,
    CancellationRequestViewSet,
    ChannelCancellationPlanViewSet,
    ChannelCancellationReasonViewSet,
    ChannelOrderCancellationEligibilityView,
    ChannelOrderCancelQuoteView,
    ChannelOrderCancelView,
    OrderCancellationEligibilityView,
    OrderCancelQuoteView,
    OrderCancelView,
)
from channels.views import (
    ActiveUserView,
    BatchRequestViewSet,
    ChannelViewSet,
    IntegrationActionViewSet,
    LoginView,
    LogoutView,
    UserViewSet,
)
from common.api.routers import Router
from omnitron.health import HealthView
from orders.views import ChannelOrderItemViewSet, ChannelOrderViewSet, OrderItemViewSet, OrderViewSet
from storefront.views import StorefrontSyncViewSet
from webhooks.views import WebhookDeliveryViewSet, WebhookViewSet

back_office = Router()
back_office.register("channels", ChannelViewSet, basename="channel")
back_office.register("users", UserViewSet, basename="user")
back_office.register("orders", OrderViewSet, basename="order")
back_office.register("order_items", OrderItemViewSet, basename="order-item")
back_office.register("cancellation_reasons", CancellationReasonViewSet, basename="cancellation-reason")
back_office.register("cancellation_plans", CancellationPlanViewSet, basename="cancellation-plan")
back_office.register("storefront_syncs", StorefrontSyncViewSet, basename="storefront-sync")
back_office.register("webhooks", WebhookViewSet, basename="webhook")
back_office.register("webhook_deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

sales_channel = Router()
sales_channel.register("orders", ChannelOrderViewSet, basename="channel-order")
sales_channel.register("order_items", ChannelOrderItemViewSet, basename="channel-order-item")
sales_channel.register("cancellation_reasons", ChannelCancellationReasonViewSet, basename="channel-cancellation-reason")
sales_channel.register("cancellation_requests", CancellationRequestViewSet, basename="channel-cancellation-request")
sales_channel.register("cancellation_plans", ChannelCancellationPlanViewSet, basename="channel-cancellation-plan")
sales_channel.register("integration_actions", IntegrationActionViewSet, basename="channel-integration-action")
sales_channel.register("batch_requests", BatchRequestViewSet, basename="channel-batch-request")

back_office_urls = [
    path("auth/login/", LoginView.as_view(), name="login"),
    path("auth/logout/", LogoutView.as_view(), name="logout"),
    path("active_user/", ActiveUserView.as_view(), name="active-user"),
    path("orders/<id:pk>/cancel/", OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<id:pk>/cancel/quote/", OrderCancelQuoteView.as_view(), name="order-cancel-quote"),
    path(
        "orders/<id:pk>/cancellation_eligibility/",
        OrderCancellationEligibilityView.as_view(),
        name="order-cancellation-eligibility",
    ),
    path("", include(back_office.urls)),
]
sales_channel_urls = [
    path("orders/<id:pk>/cancel/", ChannelOrderCancelView.as_view(), name="channel-order-cancel"),
    path("orders/<id:pk>/cancel/quote/", ChannelOrderCancelQuoteView.as_view(), name="channel-order-cancel-quote"),
    path(
        "orders/<id:pk>/cancellation_eligibility/",
        ChannelOrderCancellationEligibilityView.as_view(),
        name="channel-order-cancellation-eligibility",
    ),
    path("", include(sales_channel.urls)),
]

# Omnitron's own clients (omnisdk, channel-app) speak `/api/v1/`: every route is served there too, by the same
# views under the same rules. When two patterns share a name, reverse() takes the one listed last, so the canonical
# prefixes of the contract (`/api/channel/`, `/api/i1/`) come last and links the service builds itself use them.
# The OpenAPI schema documents each route once, under its canonical prefix (see SPECTACULAR_SETTINGS).
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="docs"), name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/channel/<id:channel_id>/", include(sales_channel_urls)),
    path("api/v1/", include(back_office_urls)),
    path("api/channel/<id:channel_id>/", include(sales_channel_urls)),
    path("api/i1/", include(back_office_urls)),
    path("api/health/", HealthView.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="omnitron/redoc.html"),
        name="redoc",
    ),
]
