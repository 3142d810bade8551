"""Parcours web application."""
