"""Domain services: plain functions, Decimal in and out. They flush; the caller commits once."""
