from django import template

from common.dashboard import dashboard_cards

register = template.Library()


@register.inclusion_tag("admin/ops/dashboard_cards.html", takes_context=True)
def ops_dashboard(context):
    request = context["request"]
    return {"cards": dashboard_cards(request.user)}
