"""The throwaway PostgreSQL server the tests share: reachable on loopback only, and a clear
failure (never a skip) when the server binaries are missing."""

import psycopg2
import pytest

from tests.postgres_cluster import BIN_DIR_VARIABLE, PostgresUnavailable, find_bin_dir


def test_the_session_server_answers_on_loopback_only_and_is_disposable(postgres_cluster, postgres_url):
    con = psycopg2.connect(postgres_url)
    try:
        with con.cursor() as cur:
            cur.execute("select current_setting('listen_addresses'), current_setting('port')::int")
            assert cur.fetchall() == [("127.0.0.1", postgres_cluster.port)]
            cur.execute("select current_setting('unix_socket_directories'), current_setting('fsync')")
            assert cur.fetchall() == [("", "off")]
            cur.execute("select current_setting('server_version_num')::int")
            assert cur.fetchall()[0][0] >= 150000
    finally:
        con.close()
    assert postgres_cluster.data_dir.is_dir()
    # A database per test keeps tests apart on the one server.
    url = postgres_cluster.create_database("cluster_selftest")
    assert url.endswith(f":{postgres_cluster.port}/cluster_selftest")
    psycopg2.connect(url).close()


def test_missing_server_binaries_fail_with_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv(BIN_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(PostgresUnavailable) as missing:
        find_bin_dir()
    message = str(missing.value)
    assert f"{BIN_DIR_VARIABLE}={tmp_path}" in message
    assert "apt-get install -y postgresql" in message
