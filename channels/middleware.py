from django.http import HttpResponse
from django.urls import reverse

from channels.throttle import client_address, login_retry_after


class AdminLoginThrottleMiddleware:
    """The admin's login form, throttled like the API's: past the failures allowed, 429 with Retry-After."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.login_path = None

    def __call__(self, request):
        if self.login_path is None:
            self.login_path = reverse("admin:login")
        if request.method == "POST" and request.path == self.login_path:
            wait = login_retry_after(username=request.POST.get("username", ""), address=client_address(request))
            if wait:
                response = HttpResponse(
                    "Too many failed logins. Try again later.", status=429, content_type="text/plain"
                )
                response["Retry-After"] = str(wait)
                return response
        return self.get_response(request)
