from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cancellations.views import (
    CancellationPlanViewSet,
    CancellationReasonViewSet,
    CancellationRequestViewSet,
    ChannelCancellationPlanViewSet,
    ChannelCancellationReasonViewSet,
    ChannelOrderCancelView,
    OrderCancelView,
)
from channels.views import ChannelViewSet, LoginView, UserViewSet
from omnitron.api.health import HealthView
from omnitron.api.routers import Router
from orders.views import ChannelOrderItemViewSet, ChannelOrderViewSet, OrderItemViewSet, OrderViewSet

back_office = Router()
back_office.register("channels", ChannelViewSet, basename="channel")
back_office.register("users", UserViewSet, basename="user")
back_office.register("orders", OrderViewSet, basename="order")
back_office.register("order_items", OrderItemViewSet, basename="order-item")
back_office.register("cancellation_reasons", CancellationReasonViewSet, basename="cancellation-reason")
back_office.register("cancellation_plans", CancellationPlanViewSet, basename="cancellation-plan")

sales_channel = Router()
sales_channel.register("orders", ChannelOrderViewSet, basename="channel-order")
sales_channel.register("order_items", ChannelOrderItemViewSet, basename="channel-order-item")
sales_channel.register("cancellation_reasons", ChannelCancellationReasonViewSet, basename="channel-cancellation-reason")
sales_channel.register("cancellation_requests", CancellationRequestViewSet, basename="channel-cancellation-request")
sales_channel.register("cancellation_plans", ChannelCancellationPlanViewSet, basename="channel-cancellation-plan")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/i1/auth/login/", LoginView.as_view(), name="login"),
    path("api/i1/orders/<id:pk>/cancel/", OrderCancelView.as_view(), name="order-cancel"),
    path(
        "api/channel/<id:channel_id>/orders/<id:pk>/cancel/",
        ChannelOrderCancelView.as_view(),
        name="channel-order-cancel",
    ),
    path("api/i1/", include(back_office.urls)),
    path("api/channel/<id:channel_id>/", include(sales_channel.urls)),
    path("api/health/", HealthView.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
