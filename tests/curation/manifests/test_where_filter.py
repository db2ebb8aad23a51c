"""``--where`` checking on a locked in-memory catalog: filters pass, anything else fails clearly."""

import duckdb
import pytest

from curation.manifests.where_filter import FilterError, check_where


@pytest.fixture
def con():
    connection = duckdb.connect(":memory:")
    connection.execute("CREATE TABLE segments AS SELECT * FROM (VALUES ('speaking', 0.0, 4.5, 'k1'), "
                       "('listening', 1.0, 3.0, 'k2')) t(state, t_start, t_end, key)")
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
    yield connection
    connection.close()


def test_a_filter_passes_parenthesised_and_selects_what_it_says(con):
    predicate = check_where(con, " state = 'listening' OR t_end - t_start > 4 ")
    assert predicate == "(state = 'listening' OR t_end - t_start > 4)"
    assert con.execute(f"SELECT count(*) FROM segments WHERE {predicate}").fetchone()[0] == 2
    predicate = check_where(con, "key IN (SELECT key FROM segments WHERE state = 'speaking')")
    assert con.execute(f"SELECT key FROM segments WHERE {predicate}").fetchall() == [("k1",)]


@pytest.mark.parametrize(("where", "message"), [
    ("", "is empty"),
    ("state = 'x'; COPY segments TO '/tmp/out.csv'", "not a valid SQL filter"),
    ("state = (", "not a valid SQL filter"),
    ("TRUE) UNION ALL (SELECT * FROM segments", "must be one boolean condition"),
    ("TRUE) ORDER BY (key", "must be one boolean condition"),
    ("TRUE) GROUP BY (key", "must be one boolean condition"),
    ("key IN (SELECT * FROM read_csv('/etc/passwd'))", "may not call table functions"),
    ("key IN (FROM read_parquet('/tmp/*.parquet'))", "may not call table functions"),
    ("EXISTS (SELECT * FROM glob('/etc/*'))", "may not call table functions"),
    ("getenv('HOME') IS NOT NULL", "may not call getenv()"),
    ("current_setting('threads') > 0", "may not call current_setting()"),
    ("missing_column = 1", "does not run on segments"),
    ("state + 1", "does not run on segments"),
])
def test_what_is_not_a_filter_fails_with_a_message_that_says_why(con, where, message):
    with pytest.raises(FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_where(con, where)
