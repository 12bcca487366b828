"""The calls page and GET /api/calls: filters, paging, ordering, errors, agent scope."""

import datetime

import pytest

from tests.web.support import BASE_TIME, create_record, create_token, create_user, login
from web.crm.masking import mask_number

DAY = datetime.timedelta(days=1)


@pytest.fixture
def manager(app, client):
    """A logged-in manager."""
    _, username, password = create_user(app, role="manager")
    login(client, username, password)
    return username


def uuids(response):
    """The call UUIDs of an /api/calls response, in order."""
    return [call["uuid"] for call in response.get_json()["calls"]]


def test_given_records_when_listing_the_api_then_newest_first_with_every_field(app, client,
                                                                                manager):
    older = create_record(app, started=BASE_TIME)
    newer = create_record(app, started=BASE_TIME + DAY, ivr_path=["欢迎", "菜单>销售"])

    body = client.get("/api/calls").get_json()

    assert [call["uuid"] for call in body["calls"]] == [newer["uuid"], older["uuid"]]
    assert body["total"] == 2 and body["limit"] == 50 and body["offset"] == 0
    first = body["calls"][0]
    assert first["ivr_path"] == ["欢迎", "菜单>销售"]
    assert first["started_at"] == (BASE_TIME + DAY).isoformat()
    assert {key: first[key] for key in ("queue", "agent", "wait_seconds", "talk_seconds",
                                        "hangup_cause", "hangup_side")} == {
        "queue": "sales", "agent": "1000", "wait_seconds": 15.0, "talk_seconds": 60.0,
        "hangup_cause": "NORMAL_CLEARING", "hangup_side": "caller"}


def test_given_filters_when_listing_the_api_then_only_matching_records(app, client, manager):
    match = create_record(app, started=BASE_TIME + DAY, caller_number="13812345678",
                          queue="support", agent="1001")
    create_record(app, started=BASE_TIME + DAY, caller_number="13812345678", queue="sales")
    create_record(app, started=BASE_TIME + DAY, caller_number="13999999999", queue="support",
                  agent="1001")
    create_record(app, started=BASE_TIME + 3 * DAY, caller_number="13812345678",
                  queue="support", agent="1001")

    response = client.get("/api/calls", query_string={
        "from": "2026-03-03", "to": "2026-03-03", "caller": "1234", "queue": "support",
        "agent": "1001"})

    assert uuids(response) == [match["uuid"]]


def test_given_a_to_date_then_that_whole_day_is_included(app, client, manager):
    late = create_record(app, started=datetime.datetime(2026, 3, 2, 23, 59, 59,
                                                         tzinfo=datetime.timezone.utc))
    create_record(app, started=datetime.datetime(2026, 3, 3, 0, 0, tzinfo=datetime.timezone.utc))

    assert uuids(client.get("/api/calls?to=2026-03-02")) == [late["uuid"]]


def test_given_a_caller_with_like_wildcards_then_they_match_literally(app, client, manager):
    create_record(app, caller_number="13800000000")

    assert uuids(client.get("/api/calls?caller=%25")) == []
    assert uuids(client.get("/api/calls?caller=_")) == []


def test_given_many_records_when_paging_then_limit_and_offset_slice_newest_first(app, client,
                                                                                  manager):
    records = [create_record(app, started=BASE_TIME + n * DAY) for n in range(5)]
    expected = [record["uuid"] for record in reversed(records)]

    first = client.get("/api/calls?limit=2")
    second = client.get("/api/calls?limit=2&offset=2")
    last = client.get("/api/calls?limit=2&offset=4")

    assert uuids(first) + uuids(second) + uuids(last) == expected
    assert first.get_json()["total"] == 5


@pytest.mark.parametrize("query, field", [
    ("from=yesterday", "from"), ("to=2026-13-01", "to"), ("limit=0", "limit"),
    ("limit=ten", "limit"), ("limit=100000", "limit"), ("offset=-1", "offset"),
    ("from=2026-03-05&to=2026-03-01", "to"), ("caller=" + "1" * 65, "caller")])
def test_given_an_invalid_filter_when_listing_the_api_then_400_naming_the_field(client, manager,
                                                                                query, field):
    response = client.get("/api/calls?" + query)

    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert response.get_json()["error"].startswith(field)


def test_given_no_credentials_when_listing_the_api_then_401_json(client):
    response = client.get("/api/calls")

    assert response.status_code == 401
    assert response.get_json()["error"] == "authentication required"


def test_given_an_agent_when_listing_then_only_their_own_calls(app, client):
    _, username, password = create_user(app, role="agent", extension="1007")
    own = create_record(app, agent="1007")
    create_record(app, agent="1000")
    token = create_token(app, username)
    login(client, username, password)

    api = client.get("/api/calls", headers={"Authorization": f"Bearer {token}"})
    spoofed = client.get("/api/calls?agent=1000", headers={"Authorization": f"Bearer {token}"})
    page = client.get("/calls").get_data(as_text=True)

    assert uuids(api) == [own["uuid"]]
    assert uuids(spoofed) == []
    # without crm.phones the callers' numbers are masked, as the CRM masks them
    masked = mask_number(own["caller_number"])
    assert masked != own["caller_number"] and masked in page and own["caller_number"] not in page
    assert api.get_json()["calls"][0]["caller_number"] == masked


def test_given_an_agent_without_extension_then_no_calls(app, client):
    _, username, password = create_user(app, role="agent")
    create_record(app, agent="1000")
    login(client, username, password)

    assert uuids(client.get("/api/calls")) == []


def test_given_records_when_opening_the_page_then_a_table_with_path_wait_talk_and_hangup(
        app, client, manager):
    create_record(app, caller_number="02188886666", ivr_path=["欢迎", "售后"], queue="support",
                  agent="1003", hangup_cause="ORIGINATOR_CANCEL", hangup_side="agent",
                  wait_seconds=42.4, talk_seconds=0.0)

    response = client.get("/calls")
    text = response.get_data(as_text=True)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "02188886666" in text and "欢迎 › 售后" in text and "ORIGINATOR_CANCEL" in text
    assert '<td class="num">42</td>' in text and ">support<" in text and ">1003<" in text


def test_given_more_than_a_page_when_opening_the_page_then_pages_keep_the_filters(app, client,
                                                                                  manager):
    app.config["CALLS_PER_PAGE"] = 2
    records = [create_record(app, started=BASE_TIME + n * DAY, queue="sales") for n in range(3)]

    first = client.get("/calls?queue=sales").get_data(as_text=True)
    second = client.get("/calls?queue=sales&page=2").get_data(as_text=True)

    assert "Page 1 of 2" in first and "page=2" in first and "queue=sales" in first
    assert records[0]["caller_number"] not in first
    assert records[0]["caller_number"] in second and records[2]["caller_number"] not in second


def test_given_a_bad_filter_when_opening_the_page_then_400_with_the_message(client, manager):
    response = client.get("/calls?from=not-a-date")

    assert response.status_code == 400
    assert "Invalid filter from" in response.get_data(as_text=True)


def test_given_no_session_when_opening_the_page_then_redirected_to_login(client):
    response = client.get("/calls?queue=sales")

    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/calls?queue%3Dsales"


def test_given_a_display_time_zone_then_pages_show_local_times_and_dates_are_local(
        tmp_path, migrated_databases):
    from tests.web.support import app_on, database_url_for, dispose

    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"),
                 DISPLAY_TIMEZONE="Asia/Shanghai")
    client = app.test_client()
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)
    # 17:30 UTC on 2 March is 01:30 on 3 March in Beijing.
    late = create_record(app, started=datetime.datetime(2026, 3, 2, 17, 30,
                                                         tzinfo=datetime.timezone.utc))
    create_record(app, started=datetime.datetime(2026, 3, 2, 15, 30, tzinfo=datetime.timezone.utc))
    try:
        page = client.get("/calls").get_data(as_text=True)
        api = client.get("/api/calls?from=2026-03-03")
    finally:
        dispose(app)

    assert "2026-03-03 01:30:00" in page and "Started (Asia/Shanghai)" in page
    assert uuids(api) == [late["uuid"]]
    assert api.get_json()["calls"][0]["started_at"] == "2026-03-02T17:30:00+00:00"


def test_given_an_unknown_display_time_zone_when_creating_the_app_then_config_error(tmp_path):
    from fs_cc.errors import ConfigError
    from tests.web.support import make_app

    with pytest.raises(ConfigError, match="Mars/Olympus"):
        make_app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}", DISPLAY_TIMEZONE="Mars/Olympus")
