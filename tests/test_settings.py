from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = _settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'epa.sqlite3'}"
    assert settings.is_sqlite


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"development": True, "host": "0.0.0.0"}, "loopback"),
        ({"database_url": "mysql://db/x"}, "unsupported database driver"),
        ({"database_url": "::::"}, "malformed database URL"),
        ({"payer_sync_budget_seconds": 20}, "less than or equal to 14"),
        ({"log_level": "chatty"}, "debug"),
        ({"port": 0}, "greater than or equal to 1"),
    ],
)
def test_unsafe_or_malformed_values_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _settings(**values)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_development_mode_on_loopback_is_fine(host: str) -> None:
    assert _settings(development=True, host=host).development


def test_environment_is_read_with_the_epa_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPA_PORT", "9123")
    monkeypatch.setenv("EPA_LOG_LEVEL", "debug")
    settings = _settings()
    assert (settings.port, settings.log_level) == (9123, "debug")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_postgresql_urls_mean_asyncpg(scheme: str) -> None:
    settings = _settings(database_url=f"{scheme}://epa:secret@db.internal:5432/epa")
    assert settings.effective_database_url == "postgresql+asyncpg://epa:secret@db.internal:5432/epa"
    assert not settings.is_sqlite
    assert "secret" not in settings.database_description


def test_the_default_sqlite_path_is_absolute_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.chdir(tmp_path)
    first = _settings().effective_database_url
    monkeypatch.chdir("/")
    assert _settings().effective_database_url == first
    assert first == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'share' / 'epa-hub' / 'epa.sqlite3'}"


def test_unknown_epa_variables_are_named_and_test_variables_are_not() -> None:
    from app.settings import unknown_settings

    environ = {"EPA_PORT": "1", "EPA_PROT": "2", "EPA_TEST_POSTGRES_URL": "x", "HOME": "/root", "epa_lvl": "3"}
    assert unknown_settings(environ) == ["EPA_PROT", "epa_lvl"]
