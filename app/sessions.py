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
