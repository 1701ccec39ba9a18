"""Crowd vs AI for real (issue 18, parts 1 and 6): the big screen at 1920x1080 and three phones
at 390x844, each its own browser context, against the real stack. The room's QR code is read
back with OpenCV; the phones join (a rude name is refused first, one plays without a name),
answer five rounds, and one drops in the middle and comes back with its points. At every
reveal the crowd's votes on the big screen add up to the phones' answers and sit beside the
AI's top 5; the final table, the phones' own totals and places, and the crowd against the AI
agree with what the reveals showed; the winner's phone saves its result card; the show is in
the statistics."""
from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Iterator

import pytest

from devtools.servers import dashboard
from tests.browser import expect
from tests.card_read import ocr, opened
from tests.look import page_scroll, problems
from tests.qr_read import decode_shown

PLAY_URL = "http://192.168.7.20:8050/"
BIG = {"width": 1920, "height": 1080}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
ROUNDS = 5
DROPS_IN = 2  # the round the third phone misses: it drops before answering, then comes back


@pytest.fixture(scope="module")
def show_url(model_server_url, explainer_url, image_server_url) -> Iterator[str]:
    """A dashboard whose shows are quick: a round ends when every phone has answered, or after
    10 s; its answer shows for 4 s (what the test reads of a reveal is read at once, but on a
    machine busy with the suite's other workers 2 s went by before a phone was read)."""
    with dashboard(model_server_url, explainer_url, image_server_url,
                   DASHBOARD_PLAY_URL=PLAY_URL, DASHBOARD_SHOW_LOBBY_SECONDS="300",
                   DASHBOARD_SHOW_ANSWER_SECONDS="10",
                   DASHBOARD_SHOW_REVEAL_SECONDS="4") as url:
        yield url


def join(page, url: str, code: str, name: str | None) -> None:
    page.goto(f"{url}/join?code={code}")
    if name is None:
        page.locator("#join-anon").tap()
    else:
        page.locator("#join-name").fill(name)
        page.locator("#join-go").tap()
    expect(page.locator("#show-status")).to_contain_text("You're in")


# The big screen's reveal of one round, read in one go the moment it shows (it lasts seconds)
REVEAL = """(round) => {
  const crowd = document.querySelector('#show-crowd');
  const texts = (css) => [...document.querySelectorAll(css)].map((e) => e.innerText);
  if (!crowd || !crowd.offsetParent || texts('.round')[0] !== round) return null;
  return {votes: texts('.show-votes'),
          top5: texts('#show-top5 .top5-row').length,
          gradcam: document.querySelectorAll('#show-box-gradcam img').length,
          crowd: texts('#show-crowd .box-title')[0], ai: texts('#show-ai .box-title')[0]};
}"""
# A phone's own result at the reveal, read in one go
MINE = """() => {
  const mine = document.querySelector('#show-mine');
  if (!mine || !mine.offsetParent) return null;
  return {head: mine.querySelector('h2').innerText, text: mine.innerText};
}"""


def plus(text: str) -> int:
    found = re.search(r"\+(\d+)", text)
    return int(found.group(1)) if found else 0


def test_a_show_with_the_big_screen_and_three_phones(show_url, tab, monkeypatch):
    big = tab(viewport=BIG)
    big.goto(f"{show_url}/")
    big.locator("#home-show").click()  # a group at the start page
    expect(big).to_have_url(f"{show_url}/show")
    code = big.locator("#show-code").inner_text(timeout=60_000)
    assert re.fullmatch(r"[A-Z]{4}", code)
    assert decode_shown(big, "#show-qr") == f"{PLAY_URL}join?code={code}"

    phones = [tab(**PHONE) for _ in range(3)]
    phones[0].goto(f"{show_url}/join?code={code}")
    phones[0].locator("#join-name").fill("Arschloch")
    phones[0].locator("#join-go").tap()
    expect(phones[0].locator("#join-error")).to_contain_text("another name")
    join(phones[0], show_url, code, "Anna")
    join(phones[1], show_url, code, "Ben")
    join(phones[2], show_url, code, None)  # "Player 3"
    expect(big.locator("#show-joined")).to_contain_text("3 phones have joined")
    looks = {"lobby": problems(big, large=True)}  # made for 3 m: no scroll, 20 px, axe
    big.locator("#show-start").click()
    expect(big.locator("#show-clock")).to_be_visible()
    looks["question"] = problems(big, large=True)

    points = [0, 0, 0]
    crowd = ai = 0
    for n in range(ROUNDS):
        playing = [0, 1] if n == DROPS_IN else [0, 1, 2]
        if n == DROPS_IN:
            context = phones[2].context
            phones[2].close()  # its battery, its network: gone before it answers
        for i in playing:
            phones[i].locator(f"#show-choice-{(i + n) % 4}").tap(timeout=20_000)
            expect(phones[i].locator("#show-choice-0")).to_have_count(0)  # locked in
        seen = big.wait_for_function(REVEAL, arg=f"Round {n + 1}/{ROUNDS}",
                                     timeout=30_000).json_value()
        votes = [int(v.split("·")[0]) for v in seen["votes"]]
        assert len(votes) == 4 and sum(votes) == len(playing)  # the crowd's votes add up
        assert seen["top5"] == 6  # the AI's 5 and its scale
        assert seen["gradcam"] == 1  # where the AI looked
        if n == 0:  # up for 4 s only: what fits is measured at once
            looks["reveal"] = [f"page scrolls {p}" for p in [page_scroll(big)] if any(p.values())]
        crowd += plus(seen["crowd"])
        ai += plus(seen["ai"])
        for i in playing:
            mine = phones[i].wait_for_function(MINE, timeout=10_000).json_value()
            points[i] += plus(mine["head"])
            assert f"Your points: {points[i]}" in mine["text"]
        if n == DROPS_IN:  # back, in a new tab of the same phone: its place and its points
            phones[2] = context.new_page()
            phones[2].goto(f"{show_url}/join?code={code}")
            expect(phones[2].locator("#join-name")).to_have_count(0)
            expect(phones[2].locator("#show-mine, #show-status, #show-choice-0").first
                   ).to_be_visible()

    final = big.locator("#show-final")
    expect(final).to_be_visible(timeout=20_000)
    looks["final"] = problems(big, large=True)
    assert {stage: found for stage, found in looks.items() if found} == {}
    names = {0: "Anna", 1: "Ben", 2: "Player 3"}
    ranked = sorted(range(3), key=lambda i: (-points[i], i))
    rows = [li.inner_text().split("\n") for li in big.locator("#show-top li").all()]
    assert [(name, int(score)) for name, score in rows] == [(names[i], points[i]) for i in ranked]
    assert int(big.locator("#show-final-crowd").inner_text()) == crowd
    assert int(big.locator("#show-final-ai").inner_text()) == ai
    for place, i in enumerate(ranked, start=1):
        expect(phones[i].locator("#show-place")).to_have_text(f"Place {place} of 3",
                                                              timeout=10_000)
        assert phones[i].locator("#show-mine h2").inner_text() == f"{points[i]} points"

    with phones[ranked[0]].expect_download() as caught:  # the winner's card, on its phone
        phones[ranked[0]].locator("#show-card").tap()
    png = caught.value.path().read_bytes()
    assert opened(png).size == (1080, 1350)
    if shutil.which("tesseract"):
        words = " ".join(w["text"] for w in ocr(opened(png), monkeypatch))
        assert "Place 1 of 3" in words, words

    with urllib.request.urlopen(f"{show_url}/api/stats", timeout=10) as response:
        shows = json.load(response)["crowd_vs_ai"]
    assert shows["shows"] == 1 and shows["phones"] == 3
    won = "crowd_wins" if crowd > ai else "ai_wins" if ai > crowd else "draws"
    assert shows[won] == 1
