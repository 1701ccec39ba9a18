"""``/model``: inside the model. Its card (how well it names the cars, measured on test photos
it never trained on, and how it was made), its accuracy for every car (searchable, sortable,
paged), the pairs it confuses most with a photo of each side, and its mistakes one by one with
the AI's top 5 and where it looked.

Every figure comes from the model's evaluation (``model.evaluate``), which the image server
publishes beside the photo pool and the dashboard reads once per process (``feeds/model_card.py``):
nothing is hard-coded and the dashboard never reads ``model/``. Photos come from the pool; a
mistake's Grad-CAM is one call to the model and one drawing by the explainer, on the dashboard's
loop with a time budget. The page fits the screen: tabs, and paging instead of long lists.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from babel import numbers
from dash import Dash, Input, Output, State, ctx, dash_table, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import components
from dashboard.clients import Mistake, ModelCard, Trust
from dashboard.game import MODEL, Car
from dashboard.i18n import N_, _, current, decimal, in_language, ngettext, percent
from dashboard.navigation import LANGUAGE, Navigator

MENU = N_("The model")
PATH = MODEL

TABS = "model-tabs"
CARD, CLASSES, CONFUSED, MISTAKES = "model-tab-card", "model-tab-classes", "model-tab-confused", \
    "model-tab-mistakes"
TAB_LABELS = {CARD: N_("Its card"), CLASSES: N_("Every car"), CONFUSED: N_("Often confused"),
              MISTAKES: N_("Its mistakes")}
CLASS_ROWS = 10  # the accuracy table's page
PAIRS = 3  # confused pairs on one page
# The training command's arguments shown, with their labels (the rest are paths and seeds).
RECIPE = {
    "epochs": N_("Epochs"),
    "batch_size": N_("Batch size"),
    "learning_rate": N_("Learning rate"),
    "weight_decay": N_("Weight decay"),
    "label_smoothing": N_("Label smoothing"),
    "views": N_("Views of each photo"),
    "trainable_from": N_("Fine-tuned from layer"),
}


def whole(n: int) -> str:
    """1103 as the language writes it: "1,103" in English, "1.103" in German."""
    return numbers.format_decimal(n, locale=current())


def figure(value: str, label: str, id_: str) -> html.Div:
    return html.Div(className="model-figure", children=[
        html.Strong(value, id=id_, className="model-figure-value"),
        html.Span(label, className="model-figure-label"),
    ])


def fact(label: str, value: str, id_: str) -> list:
    return [html.Dt(label), html.Dd(value, id=id_)]


def trust_box(trust: Trust) -> html.Section:
    """How far its confidence can be trusted: what a visitor's own photo relies on."""
    return html.Section(className="model-box", children=[
        html.H2(_("How sure it is"), className="box-title"),
        html.Div(className="model-figures", children=[
            figure(percent(trust.named_precision, 1),
                   _("right when it is sure enough to name the car"), "model-named"),
            figure(percent(trust.named_coverage, 0), _("of the photos it is that sure of"),
                   "model-named-coverage"),
        ]),
        html.P(id="model-ece", className="model-measured", children=_(
            "Its percentages mean what they say: on average they are {after} off the share it "
            "gets right (before calibration: {before}). It says “I don't see a car here” to "
            "photos that are not cars, and took {accepted} of these test photos for cars."
        ).format(after=percent(trust.ece_after, 1), before=percent(trust.ece_before, 1),
                 accepted=percent(trust.cars_accepted, 1))),
    ])


def card_tab(card: ModelCard) -> html.Div:
    """The figures, and how they were measured and the model was made."""
    recipe = [item for key, label in RECIPE.items() if key in card.recipe
              for item in fact(_(label), card.recipe[key], f"model-recipe-{key}")]
    right = html.Section(className="model-box", children=[
        html.H2(_("How often the AI is right"), className="box-title"),
        html.Div(className="model-figures", children=[
            figure(percent(card.top1, 1), _("names the exact car (make, model and year)"),
                   "model-top1"),
            figure(percent(card.make_accuracy, 1), _("names the right make"), "model-make"),
            figure(percent(card.top5, 1), _("has the car among its top 5 guesses"),
                   "model-top5"),
        ]),
        html.P(id="model-measured", className="model-measured", children=_(
            "Measured on {photos} test photos the AI never saw while it learned: the same "
            "photos you play with.").format(photos=whole(card.photos))),
    ])
    return html.Div(className="model-card", children=[
        html.Div([right, *([trust_box(card.trust)] if card.trust else [])],
                 className="model-col"),
        html.Section(className="model-box", children=[
            html.H2(_("How it was made"), className="box-title"),
            html.Dl(className="model-facts", children=[
                *fact(_("Backbone"), f"EfficientNet-{card.backbone}", "model-backbone"),
                *fact(_("Input"), _("{width} × {height} pixels").format(
                    width=card.input_size[0], height=card.input_size[1]),
                      "model-input"),
                *fact(_("Learned from"), _("{train} photos ({val} more to check it)").format(
                    train=whole(card.split.get("train", 0)),
                    val=whole(card.split.get("val", 0))), "model-trained-on"),
                *recipe,
                *fact(_("Training time"), _("{minutes} minutes").format(
                    minutes=decimal(card.train_minutes)), "model-train-minutes"),
            ]),
        ]),
    ])


def class_rows(card: ModelCard, search: str | None) -> list[dict]:
    """The table's rows: every car whose name contains ``search`` (any case)."""
    words = (search or "").casefold().split()
    return [{"car": name, "accuracy": round(share * 100, 1)}
            for name, share in sorted(card.per_class.items())
            if all(w in name.casefold() for w in words)]


def classes_tab(card: ModelCard) -> html.Div:
    return html.Div(className="model-classes", children=[
        html.Div(className="model-search", children=[
            html.Label(_("Find a car"), htmlFor="model-classes-search"),
            dbc.Input(id="model-classes-search", type="search", debounce=False,
                      placeholder=_("e.g. BMW or 2012"), autocomplete="off"),
            html.Span(_("Touch a column's arrows to sort."), className="model-hint"),
        ]),
        dash_table.DataTable(
            id="model-classes", data=class_rows(card, None),
            columns=[{"name": _("Car"), "id": "car"},
                     {"name": _("Right (%)"), "id": "accuracy", "type": "numeric"}],
            sort_action="native", page_action="native", page_size=CLASS_ROWS,
            style_as_list_view=True, cell_selectable=False,
            style_header={"backgroundColor": "var(--surface-2)", "color": "var(--text)",
                          "fontWeight": 700},
            style_cell={"backgroundColor": "var(--surface)", "color": "var(--text)",
                        "fontFamily": "var(--bs-body-font-family)", "fontSize": "1rem",
                        "textAlign": "left", "padding": ".25rem .8rem",
                        "border": "1px solid var(--line)"},
            # The table's own pager has unnamed buttons and tiny text: the page's replaces it.
            css=[{"selector": ".previous-next-container", "rule": "display: none"}],
        ),
        pager("model-classes"),
    ])


def confused_pairs(card: ModelCard, cars: dict[str, str]) -> list[tuple[str, str, int, str, str]]:
    """(truth, guess, count, truth's photo, guess's photo) for each pair with a photo of each
    side in the pool: the truth's is one the AI got wrong that way, if there is one."""
    pairs = []
    for truth, guess, count in card.confused:
        wrong = next((m.url for m in card.mistakes
                      if m.truth == truth and m.top[0][0] == guess), None)
        shown = wrong or cars.get(truth)
        if shown and guess in cars:
            pairs.append((truth, guess, count, shown, cars[guess]))
    return pairs


def pair_row(pair: tuple[str, str, int, str, str], photos: tuple[bytes, bytes], i: int) -> html.Div:
    truth, guess, count, _url, _guess_url = pair
    return html.Div(className="model-pair", id=f"model-pair-{i}", children=[
        components.image(photos[0], truth, className="model-pair-img"),
        html.Div(className="model-pair-text", children=[
            html.Span(truth, className="model-pair-truth"),
            html.Span(_("taken for"), className="model-pair-for"),
            html.Span(guess, className="model-pair-guess"),
            html.Span(ngettext("{count} time in the test", "{count} times in the test",
                               count).format(count=count),
                      className="model-pair-count"),
        ]),
        components.image(photos[1], guess, className="model-pair-img"),
    ])


def pager(prefix: str) -> html.Div:
    """Previous, where we are, next: always on the page, so their callbacks always have
    their inputs."""
    return html.Div(className="model-pager", children=[
        html.Button(_("Previous"), id=f"{prefix}-prev", className="btn btn-outline-light"),
        html.Span(id=f"{prefix}-position", className="model-position", **{"aria-live": "polite"}),
        html.Button(_("Next"), id=f"{prefix}-next", className="btn btn-outline-light"),
        dcc.Store(id=f"{prefix}-index", data=0),
    ])


def mistake_view(mistake: Mistake, photo: bytes | None,
                 overlay: bytes | None, cars: dict[str, Car]) -> list:
    """One mistake: the photo, where the AI looked, the truth, its guess and its top 5."""
    answer = cars.get(mistake.truth, Car(mistake.truth, "", "", 0))
    top = [(cars.get(name, Car(name, "", "", 0)), score) for name, score in mistake.top]
    images = [
        components.figure(components.image(photo, _("The photo"), id="model-mistake-photo",
                                           className="result-img") if photo else
                          html.Div(_("Photo unavailable"), className="overlay-missing"),
                          _("The photo"), "model-mistake-photo-box"),
        components.figure(components.image(overlay, _("Where the AI looked"),
                                           id="model-mistake-overlay", className="result-img")
                          if overlay else
                          html.Div(_("Explanation unavailable"),
                                   id="model-mistake-overlay-missing",
                                   className="overlay-missing"),
                          _("Where the AI looked"), "model-mistake-overlay-box"),
    ]
    return [
        html.Div(className="model-mistake-images", children=[*images,
                                                              components.gradcam_legend()]),
        html.Div(className="model-mistake-side", children=[
            html.Div([html.Span(_("The answer"), className="guess-who"),
                      html.Span(mistake.truth, className="guess-name")],
                     id="model-mistake-truth", className="guess-line exact"),
            components.guess_line(_("The AI"), top[0][0], answer, "model-mistake-guess"),
            html.H2(_("The AI's top 5"), className="box-title"),
            components.top5(top, answer, id_="model-mistake-top5"),
        ]),
    ]


def tab_bar(active: str) -> list[html.Button]:
    """The tabs, the open one selected (drawn by the server: one source of truth)."""
    return [html.Button(_(label), id=f"{tab_id}-button", role="tab", className="model-tab",
                        **{"aria-selected": "true" if tab_id == active else "false",
                           "aria-controls": tab_id})
            for tab_id, label in TAB_LABELS.items()]


def view(nav: Navigator, _game: object) -> html.Div:
    card = nav.model_card.card()
    if card is None:
        return components.waiting()
    panes = {
        CARD: card_tab(card),
        CLASSES: classes_tab(card),
        CONFUSED: html.Div(className="model-paged", children=[
            html.Div(id="model-pairs", className="model-pairs"), pager("model-pairs")]),
        MISTAKES: html.Div(className="model-paged", children=[
            html.Div(id="model-mistake", className="model-mistake"), pager("model-mistake")]),
    }
    return html.Div(id="model", className="model", children=[
        html.Div(className="model-head", children=[
            html.H1(_("Inside the model"), className="model-title"),
            html.Div(tab_bar(CARD), id="model-tab-bar", role="tablist", className="model-tabs",
                     **{"aria-label": _("Inside the model")}),
        ]),
        dcc.Store(id=TABS, data=CARD),
        *(html.Div(pane, id=tab_id, role="tabpanel", className="model-pane",
                   hidden=tab_id != CARD, **{"aria-labelledby": f"{tab_id}-button"})
          for tab_id, pane in panes.items()),
    ])


def _step(index: int | None, total: int, prefix: str) -> int:
    """The position after the button just pressed (wrapping around)."""
    step = {f"{prefix}-next": 1, f"{prefix}-prev": -1}.get(ctx.triggered_id, 0)
    return ((index or 0) + step) % total


def register(app: Dash, nav: Navigator) -> None:
    @app.callback(Output(TABS, "data"), Output("model-tab-bar", "children"),
                  *(Output(tab_id, "hidden") for tab_id in TAB_LABELS),
                  *(Input(f"{tab_id}-button", "n_clicks") for tab_id in TAB_LABELS),
                  LANGUAGE, prevent_initial_call=True)
    @in_language
    def switch(*_clicks: int | None):
        """A touched tab: it opens, the others close."""
        if not ctx.triggered_id or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        active = ctx.triggered_id.removesuffix("-button")
        return (active, tab_bar(active), *(tab_id != active for tab_id in TAB_LABELS))

    @app.callback(Output("model-classes", "data"), Output("model-classes", "page_current"),
                  Output("model-classes-position", "children"),
                  Output("model-classes-index", "data"),
                  Input("model-classes-search", "value"), Input("model-classes-prev", "n_clicks"),
                  Input("model-classes-next", "n_clicks"), State("model-classes-index", "data"),
                  LANGUAGE)
    @in_language
    def classes(text: str | None, _prev: int | None, _next: int | None, page: int | None):
        """The cars the search finds, a page at a time (a new search starts at its first)."""
        card = nav.model_card.card()
        if card is None:
            raise PreventUpdate
        rows = class_rows(card, text)
        pages = max(1, -(-len(rows) // CLASS_ROWS))
        page = 0 if ctx.triggered_id == "model-classes-search" else _step(
            page, pages, "model-classes")
        return rows, page, _("Page {number} of {total}").format(number=page + 1,
                                                                 total=pages), page

    @app.callback(Output("model-mistake", "children"), Output("model-mistake-position", "children"),
                  Output("model-mistake-index", "data"), Input(TABS, "data"),
                  Input("model-mistake-prev", "n_clicks"), Input("model-mistake-next", "n_clicks"),
                  State("model-mistake-index", "data"), LANGUAGE)
    @in_language
    def mistake(tab: str | None, _prev: int | None, _next: int | None, index: int | None):
        """The mistake on screen, drawn only once its tab is open."""
        card, cars = nav.model_card.card(), nav.catalog.cars()
        if tab != MISTAKES or card is None or cars is None or not card.mistakes:
            raise PreventUpdate
        index = _step(index, len(card.mistakes), "model-mistake")
        shown = card.mistakes[index]
        photo, overlay = nav.model_card.explain_photo(shown.url) or (None, None)
        return (mistake_view(shown, photo, overlay, {c.class_name: c for c in cars}),
                _("Mistake {number} of {total}").format(number=index + 1,
                                                         total=len(card.mistakes)), index)

    @app.callback(Output("model-pairs", "children"), Output("model-pairs-position", "children"),
                  Output("model-pairs-index", "data"), Input(TABS, "data"),
                  Input("model-pairs-prev", "n_clicks"), Input("model-pairs-next", "n_clicks"),
                  State("model-pairs-index", "data"), LANGUAGE)
    @in_language
    def pairs(tab: str | None, _prev: int | None, _next: int | None, page: int | None):
        """A page of confused pairs, drawn only once its tab is open."""
        card, examples = nav.model_card.card(), nav.model_card.class_photos()
        if tab != CONFUSED or card is None or examples is None:
            raise PreventUpdate
        found = confused_pairs(card, examples)
        if not found:
            raise PreventUpdate
        pages = -(-len(found) // PAIRS)
        page = _step(page, pages, "model-pairs")
        shown = found[page * PAIRS:(page + 1) * PAIRS]
        position = _("Page {number} of {total}").format(number=page + 1, total=pages)
        photos = nav.model_card.pool_photos([url for pair in shown for url in pair[3:]])
        if photos is None:
            return (html.H2(_("The photos could not be fetched just now. Please try again."),
                            className="notice"), position, page)
        return ([pair_row(pair, (photos[2 * i], photos[2 * i + 1]), i)
                 for i, pair in enumerate(shown)], position, page)
