"""sport_referral."""
