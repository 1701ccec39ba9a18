"""The docs agree with the code: the settings tables are the classes', the README stays short
and starts with the two commands, and no link leads nowhere."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools import settings_docs

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
MARKDOWN = [README, *sorted((REPO / "docs").glob("*.md"))]
# [text](target) and ![alt](target), and reference definitions: [label]: target
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def test_settings_doc_is_generated_from_the_classes() -> None:
    written = settings_docs.OUTPUT.read_text(encoding="utf-8")
    assert written == settings_docs.render(), (
        "docs/settings.md differs from the settings classes: run `make docs`")


def test_every_setting_has_a_description() -> None:
    assert settings_docs.undescribed() == []


def test_every_field_of_every_class_is_in_the_settings_doc() -> None:
    written = settings_docs.OUTPUT.read_text(encoding="utf-8")
    missing = [f"{section.settings.__module__}.{name} ({env})"
               for section in settings_docs.SECTIONS
               for name, field in section.settings.model_fields.items()
               for env in settings_docs.env_names(section.settings, name, field)
               if f"| `{env}`" not in written and f"or `{env}`" not in written]
    assert missing == []


def test_the_settings_doc_names_no_path_of_this_machine() -> None:
    """CI builds it in another folder: an absolute path would make it differ there."""
    assert str(REPO) not in settings_docs.render()


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    head = "\n".join(lines[:8])
    assert "make play" in head
    assert "make test" in head


def links(text: str) -> list[str]:
    """Every link target outside code: fenced blocks and code spans show paths, not links."""
    text = CODE_SPAN.sub("", FENCE.sub("", text))
    return INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda path: str(path.relative_to(REPO)))
def test_relative_links_lead_to_existing_files(document: Path) -> None:
    broken = []
    for target in links(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # a URL (http:, mailto:) or a heading in the same page
        path = target.split("#", 1)[0]
        if not (document.parent / path).exists():
            broken.append(target)
    assert broken == []


def test_the_link_finder_sees_links_and_skips_code() -> None:
    text = ("See [ops](docs/operator.md#reset) and ![shot](a.png).\n"
            "`[not](a-link.md)`\n```\n[nor](this.md)\n```\n[ref]: docs/docker.md\n")
    assert links(text) == ["docs/operator.md#reset", "a.png", "docs/docker.md"]
