"""Bad input on the Calls and Agents pages gets a clear answer, never a traceback or a 500.

The testing app propagates exceptions, so what used to be a 500 fails these tests loudly.
"""

import datetime
import re

import pytest

from tests.web.support import (BASE_TIME, FakeClock, create_record, create_user, csrf_token,
                               login)

DAY = datetime.timedelta(days=1)
HUGE = "9" * 30  # past 64 bits: SQLite cannot take it as an OFFSET


@pytest.fixture
def manager(app, client):
    """A logged-in manager."""
    _, username, password = create_user(app, role="manager")
    login(client, username, password)
    return username


@pytest.fixture
def five_records(app):
    """Five call records, two a page: three pages, newest first; their payloads, oldest first."""
    app.config["CALLS_PER_PAGE"] = 2
    return [create_record(app, started=BASE_TIME + n * DAY, queue="sales") for n in range(5)]


def page_label(response):
    """The page's "Page N of M", or None."""
    match = re.search(r"Page \d+ of \d+", response.get_data(as_text=True))
    return match and match.group(0)


def test_given_three_pages_when_asking_page_999_then_the_last_page_and_a_no_such_page_notice(
        app, client, manager, five_records):
    response = client.get("/calls?page=999&queue=sales")

    assert response.status_code == 302
    assert response.headers["Location"] == "/calls?queue=sales&page=3"
    last = client.get(response.headers["Location"])
    text = last.get_data(as_text=True)
    assert last.status_code == 200 and page_label(last) == "Page 3 of 3"
    assert "There is no page 999: the call records fill 3 pages; this is the last." in text
    assert five_records[0]["caller_number"] in text  # the oldest call is on the last page
    assert "Page 999" not in text


def test_given_a_huge_page_number_when_opening_the_calls_page_then_the_last_page_not_a_500(
        app, client, manager, five_records):
    response = client.get(f"/calls?page={HUGE}", follow_redirects=True)

    assert response.status_code == 200 and page_label(response) == "Page 3 of 3"
    assert f"There is no page {HUGE}" in response.get_data(as_text=True)


def test_given_no_records_when_asking_page_2_then_the_only_page(app, client, manager):
    response = client.get("/calls?page=2")

    assert response.status_code == 302 and response.headers["Location"] == "/calls"
    assert "No calls match." in client.get("/calls").get_data(as_text=True)


@pytest.mark.parametrize("page", ["0", "-3", "two", "1.5"])
def test_given_a_page_that_is_no_whole_number_from_1_then_400_naming_page(client, manager, page):
    response = client.get(f"/calls?page={page}")

    assert response.status_code == 400
    assert "Invalid filter page" in response.get_data(as_text=True)


def test_given_a_huge_offset_on_the_api_then_400_naming_offset(client, manager, five_records):
    response = client.get(f"/api/calls?offset={HUGE}")

    assert response.status_code == 400
    assert response.get_json()["field"] == "offset"
    assert response.get_json()["error"] == "offset: must be between 0 and 1000000000"


def test_given_the_largest_offset_on_the_api_then_an_empty_page_not_an_error(client, manager,
                                                                             five_records):
    body = client.get("/api/calls?offset=1000000000").get_json()

    assert body["calls"] == [] and body["total"] == 5 and body["offset"] == 1000000000


def test_given_a_huge_limit_on_the_api_then_400_naming_limit(client, manager):
    response = client.get(f"/api/calls?limit={HUGE}")

    assert response.status_code == 400 and response.get_json()["field"] == "limit"


def test_given_an_offset_on_the_calls_page_then_refused_naming_it(client, manager, five_records):
    # the page pages by ``page``; an offset (the JSON route's) is no filter of it
    response = client.get(f"/calls?offset={HUGE}")

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "offset: unknown query parameter" in text and "page" in text


@pytest.mark.parametrize("path", ["/calls", "/callbacks", "/admin/audit"])
def test_given_a_misspelt_filter_on_a_page_then_refused_naming_it_not_ignored(app, path):
    client = app.test_client()
    _, username, password = create_user(app, role="admin")  # may see every page
    login(client, username, password)

    response = client.get(f"{path}?quee=support")

    assert response.status_code == 400
    assert "quee: unknown query parameter" in response.get_data(as_text=True)


# -- the Agents page's JSON once the session has ended -----------------------------------------

@pytest.fixture
def clock(app):
    """The app's clock, moved by the test (sessions time out by it)."""
    clock = FakeClock()
    app.config["FS_CC_CLOCK"] = clock
    return clock


def test_given_an_idle_session_has_expired_when_the_agents_page_asks_its_json_then_401_not_503(
        engine, app, client, clock):
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)
    assert client.get("/api/agents").status_code == 200

    clock.advance(app.config["SESSION_IDLE_TIMEOUT"] + 1)
    response = client.get("/api/agents", headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication required", "field": None}
    assert "engine_available" not in response.get_json()
    # the page the script runs in holds the notice it shows then, with the way back in
    login(client, username, password)
    page = client.get("/agents").get_data(as_text=True)
    assert re.search(r'<p id="session-expired" class="notice error" hidden>Your session has '
                     r'expired:\s*<a href="/auth/login\?next=/agents">log in again</a>', page)
    assert csrf_token(client, "/agents")


def test_given_a_body_past_the_app_wide_limit_then_413_naming_the_limit_on_pages_and_api(
        app, client, manager):
    assert app.config["MAX_CONTENT_LENGTH"] >= 100 * 1024 * 1024  # an import's 100 MB file fits
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    body = {"csrf_token": csrf_token(client, "/crm/import"), "note": "x" * (65 * 1024)}

    page = client.post("/crm/import", data=body)
    api = client.post("/api/crm/customers", data="{" + " " * (65 * 1024) + "}",
                      content_type="application/json")

    assert page.status_code == 413
    assert "request body: larger than the limit of 0.0625 MB" in page.get_data(as_text=True)
    assert api.status_code == 413
    assert api.get_json() == {"error": "request body: larger than the limit of 0.0625 MB",
                              "field": None}
