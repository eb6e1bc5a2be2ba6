"""Access tokens: signed, expiring, and verifiable across a secret rotation."""

from datetime import timedelta

from roost.services.tokens import AccessClaims, TokenSigner

OLD = "an old secret that was in use until today, long enough"
NEW = "the new secret that signs from now on, also long enough"


def test_a_rotated_secret_still_verifies_what_it_signed() -> None:
    before = TokenSigner(OLD, []).issue(AccessClaims("usr_a", 1, None), timedelta(minutes=5))
    after_rotation = TokenSigner(NEW, [OLD])
    assert after_rotation.verify(before) == AccessClaims("usr_a", 1, None)
    fresh = after_rotation.issue(AccessClaims("usr_a", 1, "lgn_x"), timedelta(minutes=5))
    assert TokenSigner(NEW, []).verify(fresh) == AccessClaims("usr_a", 1, "lgn_x")
    assert TokenSigner(NEW, []).verify(before) is None  # once the old secret is dropped


def test_clock_skew_is_tolerated_a_little() -> None:
    signer = TokenSigner(NEW, [])
    just_expired = signer.issue(AccessClaims("usr_a", 1, None), timedelta(seconds=-10))
    long_expired = signer.issue(AccessClaims("usr_a", 1, None), timedelta(seconds=-60))
    assert signer.verify(just_expired) is not None
    assert signer.verify(long_expired) is None
