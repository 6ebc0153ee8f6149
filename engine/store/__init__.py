"""Persistence: the peewee models and the database binding."""
