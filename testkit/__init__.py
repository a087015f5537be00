"""Test support shared by tests/ and bench/: the fake Bot API, a throwaway PostgreSQL, bot harnesses, seeding."""
