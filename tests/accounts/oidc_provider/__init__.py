"""A real OpenID Connect provider for the tests: django-oauth-toolkit, in its own process.

It is a separate Django project (its own settings, database and users), run by
``python -m tests.accounts.oidc_provider`` on a socket the test opened on 127.0.0.1.
``tests.accounts.oidc_op.OidcProvider`` starts and stops it.
"""
