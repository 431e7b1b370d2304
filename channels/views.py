from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from channels import services
from channels.models import Channel
from channels.serializers import (
    ActiveUserSerializer,
    ChannelReadSerializer,
    ChannelSerializer,
    LoginInputSerializer,
    LoginOutputSerializer,
    UserSerializer,
)
from omnitron.api.permissions import IsStaff, IsStaffOrReadsOwnChannel

User = get_user_model()


class LoginView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=LoginInputSerializer, responses={200: LoginOutputSerializer}, tags=["auth"])
    def post(self, request):
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.user_login(**data.validated_data)
        return Response({"key": token.key})


class ActiveUserView(APIView):
    """The user the token belongs to: how omnisdk checks that a stored token is still good."""

    @extend_schema(responses={200: ActiveUserSerializer}, tags=["auth"])
    def get(self, request):
        return Response(ActiveUserSerializer(request.user).data)


@extend_schema(tags=["channels"])
class ChannelViewSet(viewsets.ModelViewSet):
    serializer_class = ChannelSerializer
    permission_classes = [IsAuthenticated, IsStaffOrReadsOwnChannel]
    filterset_fields = ("channel_type", "is_active")

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
    filterset_fields = ("is_staff",)
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        return Response(self.get_serializer(user).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=serializer.instance, data=dict(serializer.validated_data))
        return Response(self.get_serializer(user).data)

    def perform_destroy(self, instance):
        services.user_delete(user=instance, actor=self.request.user)
