"""Geodata (domain-sport §12): the shipped offline gazetteer and the optional online geocoder (G-6)."""

from sport_referral.geo.gazetteer import Gazetteer, get_gazetteer, normalise_place_name

__all__ = ["Gazetteer", "get_gazetteer", "normalise_place_name"]
