"""Cancellation strategies: how a channel refunds the shipping fee. Chosen by `Channel.conf["cancellation_strategy"]`,
defaulting to settings.DEFAULT_CANCELLATION_STRATEGY."""

from django.conf import settings


class CancellationStrategy:
    name: str = ""
    #: May a caller ask for the shipping fee alone (`is_cargo_refund`)?
    allows_cargo_on_request: bool = True

    def grants_cargo_with_items(self, *, plan_type: str, leaves_nothing_uncancelled: bool, any_shipped: bool) -> bool:
        """Does a plan of items also refund the shipping fee?"""
        return False


class DefaultStrategy(CancellationStrategy):
    """Shipping goes back when a cancel leaves nothing of an order that never shipped, or when asked for alone.
    A return never refunds shipping by itself: the parcel did travel."""

    name = "default"

    def grants_cargo_with_items(self, *, plan_type, leaves_nothing_uncancelled, any_shipped):
        return plan_type == "cancel" and leaves_nothing_uncancelled and not any_shipped


class NoCargoRefundStrategy(CancellationStrategy):
    """The shipping fee is never refunded."""

    name = "no_cargo_refund"
    allows_cargo_on_request = False


class CargoOnRequestStrategy(CancellationStrategy):
    """The shipping fee is refunded only when asked for with `is_cargo_refund`."""

    name = "cargo_on_request"


STRATEGIES: dict[str, CancellationStrategy] = {
    strategy.name: strategy for strategy in (DefaultStrategy(), NoCargoRefundStrategy(), CargoOnRequestStrategy())
}


def strategy_for_channel(channel) -> CancellationStrategy:
    name = (channel.conf or {}).get("cancellation_strategy") or settings.DEFAULT_CANCELLATION_STRATEGY
    return STRATEGIES[name]
