"""The bench's bookkeeping: percentiles, errors and requests/s from bounded runs."""

from __future__ import annotations

from promo.devtools import bench


class FakeSession:
    def __init__(self, status: int = 200):
        self.status = status
        self.calls = 0

    def get(self, url, timeout):
        self.calls += 1
        return type("Response", (), {"status_code": self.status})()


def test_a_run_is_bounded_and_counts_only_successful_responses():
    good, bad = FakeSession(), FakeSession(status=429)
    result = bench._run([good, good, good, bad], "http://127.0.0.1:1/x", 40)
    assert good.calls == 30 and bad.calls == 10
    assert result["n"] == 30 and result["errors"] == 10
    assert result["p50_ms"] is not None and result["p95_ms"] >= result["p50_ms"]
    assert result["rps"] > 0


def test_a_run_without_success_reports_no_latency():
    result = bench._run([FakeSession(status=500)], "http://127.0.0.1:1/x", 3)
    assert result == {"p50_ms": None, "p95_ms": None, "rps": 0.0, "n": 0, "errors": 3}


def test_the_server_runs_in_production_mode_on_loopback():
    env = bench._server_env(8765)
    assert env["DEBUG"] == "0" and env["ALLOWED_HOSTS"] == "127.0.0.1"
    assert len(env["SECRET_KEY"]) >= 50 and "PROMO_TESTING" not in env
    assert env["SECURE_SSL_REDIRECT"] == "0" and env["SESSION_COOKIE_SECURE"] == "0"


def test_mixed_load_measures_the_api_while_html_loaders_run_and_stop(monkeypatch):
    sessions: list[FakeSession] = []

    def sign_in(base, username):
        sessions.append(FakeSession())
        return sessions[-1]

    monkeypatch.setattr(bench, "_sign_in", sign_in)
    result = bench._mixed("http://127.0.0.1:1", "chief", "/api/v1/leads/", ["/leads/"])
    assert result["n"] == bench.MIXED_API_REQUESTS and result["errors"] == 0
    loaders = sessions[:2]
    assert all(s.calls <= bench.MIXED_HTML_MAX for s in loaders)


def test_each_scale_has_its_own_database_on_the_same_server():
    base = "postgres://bench:s3cret@db.internal:6543/promo"
    assert (
        bench._scale_url(base, "county")
        == "postgres://bench:s3cret@db.internal:6543/promo_bench_county"
    )
    assert bench._scale_url(base, "province").endswith("/promo_bench_province")
    assert set(bench.SCALES) == {"county", "province"}


def test_the_markdown_table_has_a_line_per_request_and_scale():
    run = {"first_ms": 12.0, "c1": {"p50_ms": 1.0, "p95_ms": 2.0, "rps": 3.0}}
    run["c4"] = run["c1"]
    scale = {
        "results": {"API leads": run, "API visits": run},
        "queries": {"API leads": 7, "API visits": 5},
        "api_under_html_load": {"p50_ms": 4.0, "p95_ms": 5.0, "errors": 0},
    }
    table = bench._markdown({"county": scale, "province": scale})
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 2 * 2
    assert "| API leads | county | 12 | 1.0 / 2.0 | 3.0 | 1.0 / 2.0 | 3.0 | 7 |" in rows
    assert "| API visits | province |" not in table and "|  | province |" in table
