from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from channels.conf import conf_for_response, conf_keep_write_only, conf_without_secrets, validate_conf
from channels.models import BatchRequest, Channel, IntegrationAction, SyncContentType
from common.api.serializers import IdRelatedField, JSONObjectField, has_nul, id_field

User = get_user_model()


class ChannelSerializer(serializers.ModelSerializer):
    conf = JSONObjectField(required=False)

    class Meta:
        model = Channel
        fields = ("id", "name", "channel_type", "conf", "is_active", "created_date", "modified_date")
        read_only_fields = ("id", "created_date", "modified_date")

    def validate_conf(self, value):
        value = conf_keep_write_only(value, self.instance.conf if self.instance else None)
        try:
            validate_conf(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["conf"]) from None
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if isinstance(data.get("conf"), dict):
            data["conf"] = conf_for_response(data["conf"])
        return data


class ChannelReadSerializer(ChannelSerializer):
    """A channel as its own channel user reads it: credentials left out of `conf`."""

    conf = serializers.SerializerMethodField()

    class Meta(ChannelSerializer.Meta):
        read_only_fields = ChannelSerializer.Meta.fields

    def get_conf(self, channel) -> dict:
        return conf_without_secrets(channel.conf)


class ActiveUserSerializer(serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)
    channels = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = User
        fields = ("id", "pk", "username", "is_staff", "channels")
        read_only_fields = fields


class LoginInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class LoginOutputSerializer(serializers.Serializer):
    key = serializers.CharField()


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True, max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
    channels = IdRelatedField(many=True, queryset=Channel.objects.all(), required=False)

    class Meta:
        model = User
        fields = ("id", "username", "password", "is_staff", "channels")
        read_only_fields = ("id",)

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["password"].required = False
        return fields

    def validate(self, attrs):
        password = attrs.get("password")
        if password is not None:
            candidate = User(username=attrs.get("username", getattr(self.instance, "username", "")))
            try:
                validate_password(password, user=candidate)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class IntegrationActionSerializer(serializers.ModelSerializer):
    pk = serializers.IntegerField(read_only=True)

    class Meta:
        model = IntegrationAction
        fields = (
            "id",
            "pk",
            "channel",
            "content_type",
            "object_id",
            "remote_id",
            "version_date",
            "state",
            "created_date",
            "modified_date",
        )
        read_only_fields = fields


class IntegrationActionUpdateInputSerializer(serializers.Serializer):
    """`channel`, `content_type` and `object_id` name what the action is about and never change: sent, they are
    ignored (channel-app sends the whole action back)."""

    remote_id = serializers.CharField(max_length=255, required=False, allow_null=True, allow_blank=True)
    version_date = serializers.DateTimeField(
        required=False, allow_null=True, help_text="The object's modified_date the channel last received."
    )
    state = JSONObjectField(required=False)

    def validate_remote_id(self, value):
        return value or None


class IntegrationActionCreateInputSerializer(IntegrationActionUpdateInputSerializer):
    """What channel-app posts: `{"content_type", "channel_id", "object_id", "remote_id", "version_date", "state"}`.
    The channel is the path's; `channel_id` (or `channel`) in the body, if sent, must name it."""

    content_type = serializers.ChoiceField(choices=SyncContentType.choices)
    object_id = id_field()
    channel_id = id_field(required=False, help_text="Optional; must be the channel of the path.")
    channel = id_field(required=False, help_text="Optional; must be the channel of the path.")


class BatchObjectSerializer(serializers.Serializer):
    """One object a batch request lists, as channel-app's `create_batch_objects` builds it."""

    pk = id_field()
    content_type = serializers.CharField(max_length=64)
    version_date = serializers.DateTimeField(required=False, allow_null=True, default=None)
    remote_id = serializers.CharField(max_length=255, required=False, allow_null=True, default=None)
    failed_reason_type = serializers.CharField(max_length=64, required=False, allow_null=True, default=None)

    def validate_remote_id(self, value):
        return value or None

    def validate(self, attrs):
        if has_nul(attrs):
            raise serializers.ValidationError("Text may not contain NUL (U+0000) characters.")
        return attrs


class BatchRequestDetailSerializer(serializers.ModelSerializer):
    """A batch request as the API shows it, and the body of `PATCH` (one class for both, so the schema names its
    status enum once). `channel` in a body is ignored: the path names the channel."""

    pk = serializers.IntegerField(read_only=True)
    objects = BatchObjectSerializer(
        source="batch_objects",
        many=True,
        required=False,
        allow_null=True,
        max_length=10_000,
        help_text="null (or left out) leaves the listed objects as they are.",
    )
    content_type = serializers.ChoiceField(choices=SyncContentType.choices, allow_blank=True, required=False)
    remote_batch_id = serializers.CharField(max_length=255, required=False, allow_null=True)

    class Meta:
        model = BatchRequest
        fields = (
            "id",
            "pk",
            "channel",
            "local_batch_id",
            "status",
            "content_type",
            "objects",
            "remote_batch_id",
            "created_date",
            "modified_date",
        )
        read_only_fields = ("id", "pk", "channel", "local_batch_id", "created_date", "modified_date")
        extra_kwargs = {"status": {"required": False}}


class BatchRequestCreateInputSerializer(serializers.Serializer):
    """channel-app posts `{"channel": <id>}`; the channel is the path's."""

    channel = id_field(required=False, help_text="Optional; must be the channel of the path.")
    content_type = serializers.ChoiceField(choices=SyncContentType.choices, allow_blank=True, required=False)
