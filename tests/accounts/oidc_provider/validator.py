from oauth2_provider.oauth2_validators import OAuth2Validator

UNVERIFIED_GROUP = "email-unverified"


class Validator(OAuth2Validator):
    """Gives the ``email`` scope its claims; the provider vouches for an address unless
    its account is in the ``email-unverified`` group."""

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": not user.groups.filter(name=UNVERIFIED_GROUP).exists(),
        }
