from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from channels import selectors, services
from channels.filters import BatchRequestFilter, ChannelFilter, IntegrationActionFilter, UserFilter
from channels.mixins import ChannelScopedMixin
from channels.models import Channel
from channels.serializers import (
    ActiveUserSerializer,
    BatchRequestCreateInputSerializer,
    BatchRequestDetailSerializer,
    ChannelReadSerializer,
    ChannelSerializer,
    IntegrationActionCreateInputSerializer,
    IntegrationActionSerializer,
    IntegrationActionUpdateInputSerializer,
    LoginInputSerializer,
    LoginOutputSerializer,
    UserSerializer,
)
from common.api.permissions import IsStaff, IsStaffOrReadsOwnChannel
from common.errors import ApplicationError

User = get_user_model()


class LoginView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginInputSerializer,
        responses={
            200: LoginOutputSerializer,
            400: OpenApiResponse(description="Wrong username or password (`code` invalid_credentials)."),
            429: OpenApiResponse(description="Too many failed logins for this username or address: see Retry-After."),
        },
        tags=["auth"],
    )
    def post(self, request):
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.user_login(**data.validated_data, request=request)
        return Response({"key": token.key})


class LogoutView(APIView):
    """Revokes the token the request was made with."""

    @extend_schema(
        request=None,
        responses={204: None, 401: OpenApiResponse(description="No or a bad token.")},
        tags=["auth"],
    )
    def post(self, request):
        services.user_logout(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActiveUserView(APIView):
    """The user the token belongs to: how omnisdk checks that a stored token is still good."""

    @extend_schema(responses={200: ActiveUserSerializer}, tags=["auth"])
    def get(self, request):
        return Response(ActiveUserSerializer(request.user).data)


@extend_schema(tags=["channels"])
class ChannelViewSet(viewsets.ModelViewSet):
    serializer_class = ChannelSerializer
    permission_classes = [IsAuthenticated, IsStaffOrReadsOwnChannel]
    filterset_class = ChannelFilter

    def get_serializer_class(self):
        user = self.request.user
        if user.is_authenticated and not user.is_staff:
            return ChannelReadSerializer
        return ChannelSerializer

    def get_queryset(self):
        channels = Channel.objects.all()
        user = self.request.user
        if self.action == "list" and user.is_authenticated and not user.is_staff:
            channels = channels.filter(users=user)
        return channels

    def perform_destroy(self, instance):
        services.channel_delete(channel=instance)


@extend_schema(tags=["users"])
class UserViewSet(viewsets.ModelViewSet):
    queryset = User.objects.order_by("id").prefetch_related("channels")
    serializer_class = UserSerializer
    permission_classes = [IsAuthenticated, IsStaff]
    filterset_class = UserFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        return Response(self.get_serializer(user).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=serializer.instance, **serializer.validated_data)
        return Response(self.get_serializer(user).data)

    def perform_destroy(self, instance):
        services.user_delete(user=instance, actor=self.request.user)


SYNC_ERRORS = {
    400: OpenApiResponse(description="Invalid input or a refused rule; the body carries a `code`."),
    403: OpenApiResponse(description="Not linked to this channel."),
    404: OpenApiResponse(description="No such object in this channel."),
}


def require_path_channel(data, channel_id: int) -> None:
    """channel-app repeats the channel in bodies (`channel`, `channel_id`); the path names it, and a body naming
    another channel is refused rather than silently written to the path's."""
    if not isinstance(data, dict):
        return
    for key in ("channel", "channel_id"):
        if data.get(key) is not None and str(data[key]) != str(channel_id):
            raise ApplicationError(f"{key} must be the channel of the path.", code="channel_mismatch", field=key)


@extend_schema_view(
    list=extend_schema(responses={200: IntegrationActionSerializer(many=True), 400: SYNC_ERRORS[400]}),
    retrieve=extend_schema(responses={200: IntegrationActionSerializer, 404: SYNC_ERRORS[404]}),
    create=extend_schema(
        request=IntegrationActionCreateInputSerializer, responses={201: IntegrationActionSerializer, **SYNC_ERRORS}
    ),
    update=extend_schema(
        request=IntegrationActionUpdateInputSerializer, responses={200: IntegrationActionSerializer, **SYNC_ERRORS}
    ),
    partial_update=extend_schema(
        request=IntegrationActionUpdateInputSerializer, responses={200: IntegrationActionSerializer, **SYNC_ERRORS}
    ),
)
@extend_schema(tags=["omnitron sync"])
class IntegrationActionViewSet(
    ChannelScopedMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """What the channel knows of each object: its remote id and the version it last received."""

    serializer_class = IntegrationActionSerializer
    filterset_class = IntegrationActionFilter

    def get_queryset(self):
        return selectors.integration_action_list(channel_id=self.channel_id)

    def create(self, request, *args, **kwargs):
        require_path_channel(request.data, self.channel_id)
        data = IntegrationActionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        action = services.integration_action_create(
            channel=self.channel,
            content_type=body["content_type"],
            object_id=body["object_id"],
            remote_id=body.get("remote_id"),
            version_date=body.get("version_date"),
            state=body.get("state"),
        )
        return Response(IntegrationActionSerializer(action).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        """PUT and PATCH alike: the fields sent change, the others stay."""
        action = self.get_object()
        require_path_channel(request.data, self.channel_id)
        data = IntegrationActionUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = services.integration_action_update(action_id=action.pk, **data.validated_data)
        return Response(IntegrationActionSerializer(action).data)


@extend_schema_view(
    list=extend_schema(responses={200: BatchRequestDetailSerializer(many=True), 400: SYNC_ERRORS[400]}),
    retrieve=extend_schema(responses={200: BatchRequestDetailSerializer, 404: SYNC_ERRORS[404]}),
    create=extend_schema(
        request=BatchRequestCreateInputSerializer, responses={201: BatchRequestDetailSerializer, **SYNC_ERRORS}
    ),
    partial_update=extend_schema(
        request=BatchRequestDetailSerializer,
        responses={200: BatchRequestDetailSerializer, **SYNC_ERRORS},
        description=(
            "Moves the batch along initialized -> commit -> sent_to_remote -> ongoing -> done | fail (steps may be "
            "skipped; backwards or out of done/fail is 400 `batch_transition_invalid`). A commit marks its objects "
            "sent; done offers again the objects sent with a `failed_reason_type`; fail offers again every object "
            "of the batch."
        ),
    ),
)
@extend_schema(tags=["omnitron sync"])
class BatchRequestViewSet(
    ChannelScopedMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """One run of a channel app, tracked as it moves through its states."""

    serializer_class = BatchRequestDetailSerializer
    filterset_class = BatchRequestFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.batch_request_list(channel_id=self.channel_id)

    def create(self, request, *args, **kwargs):
        require_path_channel(request.data, self.channel_id)
        data = BatchRequestCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.batch_request_create(
            channel=self.channel, content_type=data.validated_data.get("content_type", "")
        )
        return Response(BatchRequestDetailSerializer(batch).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        batch = self.get_object()
        require_path_channel(request.data, self.channel_id)
        # Not `partial`: that would reach the listed objects too, whose `pk` and `content_type` stay required. Every
        # field of the body is optional anyway.
        data = BatchRequestDetailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        batch = services.batch_request_transition(
            batch_request_id=batch.pk,
            status=body.get("status"),
            objects=body.get("batch_objects"),
            remote_batch_id=body.get("remote_batch_id"),
            content_type=body.get("content_type"),
        )
        return Response(BatchRequestDetailSerializer(batch).data)
