"""The desk in German and English: the browser's language first, else the site's.

The example site's DEFAULT_LANG is German; a browser asking for English gets English.
Every page's <html lang> says which, and no page mixes the two.
"""

from __future__ import annotations

import re

import pytest

from tests.publish.web.conftest import Desk


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    ("language", "lang", "words", "not_words"),
    [
        ("de-DE,de;q=0.9", "de", ["Eingang", "Kanal", "Filtern", "1 Kommentar", "Abmelden"],
         ["Inbox", "Filter the inbox", "Log out"]),
        ("en-GB,en;q=0.8", "en", ["Inbox", "Channel", "Filter", "1 comment", "Log out"],
         ["Eingang", "Abmelden"]),
        (None, "de", ["Eingang", "Abmelden"], ["Log out"]),  # no preference: DEFAULT_LANG
        ("fr-FR", "de", ["Eingang"], ["Log out"]),  # nothing we speak: DEFAULT_LANG
    ],
)
def test_inbox_in_the_browsers_language(
    desk: Desk, language: str | None, lang: str, words: list[str], not_words: list[str]
) -> None:
    desk.comment()
    client = desk.login("moderator", language=None)
    client.headers = {"Accept-Language": language} if language else {}
    html = client.get("/inbox").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    text = _visible(html)
    for word in words:
        assert word in text, word
    for word in not_words:
        assert word not in text, word


def test_states_are_translated_on_the_page_but_not_in_the_form_values(desk: Desk) -> None:
    desk.comment()
    html = desk.login("moderator", language="de").get("/inbox").get_data(as_text=True)
    assert 'value="new"' in html and "> neu</label>" in html
    assert 'class="state state-new">neu<' in html


def test_flash_messages_follow_the_language(desk: Desk) -> None:
    comment_id = desk.comment()
    for language, expected in (("de", "Kommentar %d: freigegeben."),
                               ("en", "Comment %d: approved.")):
        client = desk.login("moderator", language=language)
        client.get(f"/inbox/{comment_id}")
        state = "new" if language == "de" else "approved"
        action = "approve" if language == "de" else "reject"
        response = client.post(f"/inbox/{comment_id}/{action}",
                               {"expected_state": state, "reason": "x"})
        assert response.status_code == 302
        page = client.get(f"/inbox/{comment_id}").get_data(as_text=True)
        if language == "de":
            assert expected % comment_id in page
        else:
            assert f"Comment {comment_id}: rejected." in page


def test_error_pages_speak_the_language(desk: Desk) -> None:
    client = desk.login("moderator", language="de")
    html = client.get("/inbox/999999").get_data(as_text=True)
    assert "Es gibt keinen Kommentar 999999." in html and "Zurück zum Desk" in html
    client = desk.login("moderator", language="en")
    assert "There is no comment 999999." in client.get("/inbox/999999").get_data(as_text=True)


def test_dashboard_weekdays_and_login_in_german(desk: Desk) -> None:
    html = desk.client(language="de").get("/login").get_data(as_text=True)
    assert "<h1>Anmelden</h1>" in html and "E-Mail-Adresse" in html
    dashboard = desk.login("editor", language="de").get("/dashboard").get_data(as_text=True)
    assert "Montag" in dashboard and "Monday" not in dashboard


GERMAN_TIME = re.compile(r"(Mo|Di|Mi|Do|Fr|Sa|So)\., \d{1,2}\. \w+\.? 20\d\d, \d\d:\d\d MES?Z")
ENGLISH_TIME = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} \w{3} 20\d\d, \d\d:\d\d CES?T")


def test_times_on_the_comment_page_are_written_as_the_language_writes_them(desk: Desk) -> None:
    """The comment was written 20 minutes before 24 Nov 2026 10:30 Berlin time."""
    comment_id = desk.comment()
    german = _visible(desk.login("moderator", language="de").get(f"/inbox/{comment_id}")
                      .get_data(as_text=True))
    english = _visible(desk.login("moderator", language="en").get(f"/inbox/{comment_id}")
                       .get_data(as_text=True))
    assert "Di., 24. Nov. 2026, 10:10 MEZ" in german
    assert "Tue, 24 Nov 2026, 10:10 CET" in english
    assert not ENGLISH_TIME.search(german) and not GERMAN_TIME.search(english)
    # the countdown, and the words desk.js keeps counting with
    assert re.search(r"(fällig in|überfällig seit) \d+ (Std\.|Min\.)", german)
    assert re.search(r"(due in|overdue by) \d+ (h|min)", english)
    raw = desk.login("moderator", language="de").get("/inbox").get_data(as_text=True)
    assert 'data-due-in="fällig in {}"' in raw and 'data-span-minutes="{m} Min."' in raw


def test_calendar_titles_name_the_month_and_week_in_the_language(desk: Desk) -> None:
    for language, month, week in (("de", "November 2026", "KW 48, 2026 (23. Nov. – 29. Nov. 2026)"),
                                  ("en", "November 2026", "Week 48, 2026 (23 Nov – 29 Nov 2026)")):
        client = desk.login("editor", language=language)
        assert month in _visible(client.get("/dashboard?view=month").get_data(as_text=True))
        assert week in _visible(client.get("/dashboard").get_data(as_text=True))
    # a month whose name differs: the desk's clock in March
    desk.clock.now = desk.clock.now.replace(month=3)
    german = desk.login("editor", language="de").get("/dashboard?view=month")
    english = desk.login("editor", language="en").get("/dashboard?view=month")
    assert "März 2026" in german.get_data(as_text=True)
    assert "March 2026" in english.get_data(as_text=True)


def test_notifications_page_in_both_languages(desk: Desk) -> None:
    german = _visible(desk.login("admin", language="de").get("/notifications?status=doubt")
                      .get_data(as_text=True))
    english = _visible(desk.login("admin", language="en").get("/notifications?status=doubt")
                       .get_data(as_text=True))
    assert "Benachrichtigungen" in german
    assert "Keine Benachrichtigungen im Zustand unklar." in german
    assert "Alle" in german and "Zusammenfassung" in german
    assert "No notifications in state doubt." in english and "Notifications" in english
    assert "Benachrichtigungen" not in english
