"""Session cookies marked Secure whenever the request came over HTTPS (directly or, with
TRUST_PROXY set, as reported by the proxy), even if SESSION_COOKIE_SECURE is off."""
from flask import request
from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app) -> bool:
        try:
            over_https = request.is_secure
        except RuntimeError:
            over_https = False
        return bool(app.config["SESSION_COOKIE_SECURE"] or over_https)

    def get_signing_serializer(self, app):
        """Flask's serializer, built once for the app's keys: Flask builds it twice a request
        (reading the cookie, then writing it again), about 7 µs each, on every request."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = getattr(self, "_kept_serializer", None)
        if kept is None or kept[0] != keys:
            kept = self._kept_serializer = (keys, super().get_signing_serializer(app))
        return kept[1]
