from tests.integration.petitions.conftest import uni  # noqa: F401  (fixture)
