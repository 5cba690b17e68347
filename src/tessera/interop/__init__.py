"""Bring existing work in and take it out: standard files and data to ODCS contracts and back."""
