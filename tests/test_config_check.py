"""Checked configuration: productops.toml is validated against its schema before anything runs."""

from __future__ import annotations

import pytest

from ingestion.config import ConfigError, load_settings
from orchestration.cli import main


def settings_with(tmp_path, toml: str):
    config = tmp_path / "productops.toml"
    config.write_text(toml, encoding="utf-8")
    return load_settings(
        {
            "PRODUCTOPS_CONFIG": str(config),
            "PRODUCTOPS_DEMO_DIR": str(tmp_path / "demo"),
            "PRODUCTOPS_SALT": "config-test-salt",
        }
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        # the case: a pipeline setting written at the top level was silently ignored
        ("anonymity_threshold = 3\n", "unknown key 'anonymity_threshold' at the top level; "
         "did you mean [pipeline] anonymity_threshold?"),
        ("[pipeline]\nanonimity_threshold = 3\n", "pipeline.anonimity_threshold: unknown key "
         "'anonimity_threshold' in [pipeline]; did you mean 'anonymity_threshold'?"),
        ("[pipline]\n", "unknown key 'pipline' at the top level; did you mean 'pipeline'?"),
        ("[pipeline]\nvolume_max_drop = 1.5\n", "pipeline.volume_max_drop: Input should be less than or "
         "equal to 1 (got 1.5)"),
        ('[pipeline]\noverlap_minutes = "60"\n', "pipeline.overlap_minutes: Input should be a valid "
         "integer (got '60')"),
        ("[pipeline]\nrejected_min_count = { usage = 3, jiraa = 4 }\n",
         "pipeline.rejected_min_count.jiraa: Input should be 'jira', 'github', 'linear', 'okta', 'usage' "
         "or 'surveys' (got 'jiraa')"),
        ('[[surveys]]\nid = "p"\nformat = "google_form"\n', "surveys[0].format: Input should be "
         "'google_forms', 'surveymonkey' or 'typeform' (got 'google_form')"),
        ('[[surveys]]\nid = "p"\nformat = "google_forms"\n[[surveys.likert]]\nid = "w"\nquestion = "q"\n'
         "scale = [5, 1]\n", "surveys[0].likert[0]: scale must go from low to high, got [5.0, 1.0]"),
        ('[usage]\nuser_emial = "email"\n', "usage.user_emial: unknown key 'user_emial' in [usage]; "
         "did you mean 'user_email'?"),
    ],
)  # fmt: skip
def test_a_wrong_key_type_or_value_names_the_file_the_key_and_the_closest_valid_key(tmp_path, toml, message):
    with pytest.raises(ConfigError) as error:
        settings_with(tmp_path, toml)
    assert str(error.value).startswith(f"{tmp_path / 'productops.toml'}: 1 problem(s):")
    assert message in str(error.value)


def test_every_problem_is_listed_at_once(tmp_path):
    with pytest.raises(ConfigError, match=r"3 problem\(s\)"):
        settings_with(tmp_path, "anonymity_threshold = 3\n[pipeline]\nvolume_min_rows = -1\n[usag]\n")


def test_a_valid_file_loads(tmp_path):
    settings = settings_with(
        tmp_path,
        "[pipeline]\nanonymity_threshold = 3\nrejected_min_count = 5\nfreshness_hours = { usage = 24 }\n"
        '[usage]\nuser_email = ["email", "userId"]\n'
        '[[surveys]]\nid = "p"\nformat = "surveymonkey"\nlabels = { "Mostly agree" = 4 }\n'
        '[[surveys.numeric]]\nid = "hours"\nquestion = "Hours?"\nrange = [0, 80]\n',
    )
    assert settings.anonymity_threshold == 3
    assert settings.rejected_min_count["okta"] == 5
    assert settings.surveys[0].numeric[0].range == (0.0, 80.0)
    assert settings.surveys[0].labels == (("Mostly agree", 4.0),)


def test_config_check_validates_without_running(tmp_path, monkeypatch, capsys):
    for name in ("PRODUCTOPS_SALT", "JIRA_BASE_URL", "GITHUB_REPOS", "OKTA_ORG_URL", "LINEAR_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "productops.toml"
    monkeypatch.setenv("PRODUCTOPS_CONFIG", str(config))
    monkeypatch.setenv("PRODUCTOPS_DEMO_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("PRODUCTOPS_WAREHOUSE", str(tmp_path / "w.duckdb"))
    config.write_text("[pipeline]\nanonymity_threshold = 4\n", encoding="utf-8")
    assert main(["config", "check"]) == 0
    assert f"{config}: valid" in capsys.readouterr().out
    assert not (tmp_path / "w.duckdb").exists()  # nothing ran
    config.write_text("anonymity_threshold = 4\n", encoding="utf-8")
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert "configuration error:" in err and "did you mean [pipeline] anonymity_threshold?" in err


# -- no demo unless asked -------------------------------------------------------------


def _env(tmp_path, **extra: str) -> dict[str, str]:
    return {
        "PRODUCTOPS_DEMO_DIR": str(tmp_path / "demo"),
        "PRODUCTOPS_CONFIG": str(tmp_path / "productops.toml"),
        "PRODUCTOPS_LANDING_DIR": str(tmp_path / "landing"),
        **extra,
    }


def test_the_demo_runs_when_nothing_is_configured_and_says_why(tmp_path):
    settings = load_settings(_env(tmp_path))
    assert settings.demo_mode and settings.demo_reason == "nothing is configured"
    assert settings.salt.value  # the demo's own salt


@pytest.mark.parametrize("what", ["surveys config", "usage files", "survey files"])
def test_file_sources_alone_turn_the_demo_off_and_require_the_salt(tmp_path, what):
    if what == "surveys config":
        (tmp_path / "productops.toml").write_text('[[surveys]]\nid = "p"\nformat = "google_forms"\n')
    else:
        folder = tmp_path / "landing" / ("usage" if what == "usage files" else "surveys")
        folder.mkdir(parents=True)
        (folder / "export.csv").write_text("x\n")
    with pytest.raises(ConfigError, match="PRODUCTOPS_SALT must be set outside the demo"):
        load_settings(_env(tmp_path))
    settings = load_settings(_env(tmp_path, PRODUCTOPS_SALT="s3cret-salt"))
    assert not settings.demo_mode and settings.demo_reason is None
    assert settings.landing_dir == tmp_path / "landing"


def test_asked_for_the_demo_runs_whatever_is_configured(tmp_path):
    folder = tmp_path / "landing" / "usage"
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text("{}\n")
    settings = load_settings(
        _env(tmp_path, PRODUCTOPS_DEMO="1", JIRA_BASE_URL="https://x.atlassian.net", JIRA_API_TOKEN="t")
    )
    assert settings.demo_mode and settings.demo_reason == "asked for with --demo"
    assert settings.jira is None  # never the live site during a demo
