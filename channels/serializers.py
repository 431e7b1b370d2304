from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from channels.conf import conf_without_secrets, validate_conf
from channels.models import Channel
from omnitron.api.serializers import IdRelatedField, JSONObjectField

User = get_user_model()


class ChannelSerializer(serializers.ModelSerializer):
    conf = JSONObjectField(required=False)

    class Meta:
        model = Channel
        fields = ("id", "name", "channel_type", "conf", "is_active", "created_date", "modified_date")
        read_only_fields = ("id", "created_date", "modified_date")

    def validate_conf(self, value):
        try:
            validate_conf(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["conf"]) from None
        return value


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
