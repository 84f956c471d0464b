"""The interactive review (``summarizer review`` on a terminal), built on Textual; the only module that
imports it.

A list of a brief's items (claims, uncertainties, actors; for a digest, every document's) above the one
under the cursor: its claimant, statement, the rules' check mark, the decision so far, and the evidence
highlighted inside its sentence. Keys accept, reject (a reason chosen or typed), correct the claimant
(one of the brief's actors or a new name), mark for follow-up, undo; views show every item, the unchecked,
those marked for follow-up, those the rules marked "check", the rejected, or one claimant's. Every
decision is written to the brief's review file at once (``reviews.save_review``, atomically), so quitting,
or a crash, loses nothing.

Every string from a document or a model reaches the screen as a ``rich.text.Text`` made inert
(``render.inert``): never read as markup, no terminal escape passed through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, OptionList, Static

from .errors import SummarizerError
from .models import Actor, Brief, Claim, Uncertainty, joined
from .render import in_sentence, inert, rich_text
from .reviews import REJECT_REASONS, Decision, Item, Reviewed, decided, items, mark, save_review

VIEWS = ("all", "unchecked", "follow-up", "rules' check", "rejected")


@dataclass
class Sheet:
    """One brief under review: its file, the brief, its source text (None when not found), its decisions."""

    path: Path
    brief: Brief
    text: str | None
    reviewed: Reviewed
    label: str  # what the list calls the document: "" for a single brief, its key (d1) in a digest


@dataclass(frozen=True)
class Row:
    sheet: int
    position: int  # in the sheet's items: a brief may (wrongly) repeat an id; the position is unique
    item: Item

    @property
    def key(self) -> str:
        return f"{self.sheet}:{self.position}"


class Choose(ModalScreen[str | None]):
    """A choice from a list, or a typed answer; Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    Choose { align: center middle; }
    Choose > Vertical { width: 90%; max-width: 70; height: auto; max-height: 20; border: round $accent;
                        background: $surface; }
    Choose OptionList { height: auto; max-height: 10; }
    """

    def __init__(self, title: str, options: list[str], placeholder: str) -> None:
        super().__init__()
        self.heading, self.options, self.placeholder = title, options, placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.heading, style="bold"))
            yield OptionList(*[rich_text(option) for option in self.options], id="options")
            yield Input(placeholder=self.placeholder, id="typed")

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        if self.options:
            listing.highlighted = 0
            listing.focus()
        else:
            listing.display = False
            self.query_one(Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.options[event.option_index])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = " ".join(event.value.split())
        self.dismiss(value[:200] or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReviewApp(App[None]):
    """Review the items of one or more briefs; decisions go to each brief's review file."""

    TITLE = "summarizer review"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #status { height: 1; background: $boost; }
    #items { height: 1fr; }
    #detail { height: 10; border-top: solid $accent; padding: 0 1; overflow-y: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept"),
        Binding("r", "reject", "Reject"),
        Binding("c", "correct", "Claimant"),
        Binding("f", "follow_up", "Follow"),
        Binding("u", "undo", "Undo"),
        Binding("v", "view", "View"),
        Binding("slash", "by_claimant", "Filter"),
        Binding("q", "quit", "Quit"),
        *(Binding(str(n + 1), f"show({n})", VIEWS[n], show=False) for n in range(len(VIEWS))),
    ]

    def __init__(self, sheets: list[Sheet], reviewer: str, *, plain: bool | None = None) -> None:
        super().__init__()
        self.sheets, self.reviewer = sheets, reviewer
        self.plain = bool(os.environ.get("NO_COLOR")) if plain is None else plain
        self.view = 0
        self.claimant_filter: str | None = None
        self.undo_stack: list[tuple[int, str, Decision | None]] = []
        self.rows: list[Row] = []
        self.failed = False  # a decision could not be saved this session

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield DataTable(id="items", cursor_type="row", zebra_stripes=not self.plain)
        yield Static(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("", key="mark", width=3)
        longest = max(
            (
                len(f"{sheet.label}:{item.id}" if sheet.label else item.id)
                for sheet in self.sheets
                for item in items(sheet.brief)
            ),
            default=2,
        )
        table.add_column("id", key="id", width=max(longest, 2))
        table.add_column("who / kind", key="who", width=22)
        table.add_column("what", key="what")
        self.refresh_rows()
        table.focus()

    # ---------------------------------------------------------------- rows

    def decision(self, row: Row) -> Decision | None:
        return self.sheets[row.sheet].reviewed.of(row.item.id)

    def claimant(self, row: Row) -> str | None:
        if not isinstance(row.item, Claim):
            return None
        found = self.decision(row)
        return found.claimant if found is not None and found.claimant else joined(row.item.claimants)

    def shown(self, row: Row) -> bool:
        found, item = self.decision(row), row.item
        view = VIEWS[self.view]
        if self.claimant_filter is not None:
            who = (self.claimant(row) or "").casefold()
            if self.claimant_filter.casefold() not in who:
                return False
        if view == "unchecked":
            return found is None or not found.checked
        if view == "follow-up":
            return found is not None and found.follow_up
        if view == "rules' check":
            return isinstance(item, Claim) and item.check is not None
        if view == "rejected":
            return found is not None and found.decision == "rejected"
        return True

    def refresh_rows(self, keep: str | None = None) -> None:
        table = self.query_one(DataTable)
        current = keep if keep is not None else self.current_key()
        every = [
            Row(index, position, item)
            for index, sheet in enumerate(self.sheets)
            for position, item in enumerate(items(sheet.brief))
        ]
        self.rows = [row for row in every if self.shown(row)]
        table.clear()
        for row in self.rows:
            table.add_row(*self.cells(row), key=row.key)
        if self.rows:
            index = next((i for i, row in enumerate(self.rows) if row.key == current), None)
            table.move_cursor(row=index if index is not None else min(table.cursor_row, len(self.rows) - 1))
        self.update_status()
        self.update_detail()

    def cells(self, row: Row) -> tuple[Text, Text, Text, Text]:
        found, item = self.decision(row), row.item
        sign = "·"
        if found is not None and found.decision == "accepted":
            sign = "✓"
        elif found is not None and found.decision == "rejected":
            sign = "✗"
        elif found is not None and found.claimant:
            sign = "✎"
        flags = ("⚑" if found is not None and found.follow_up else "") + (
            "!" if isinstance(item, Claim) and item.check else ""
        )
        label = self.sheets[row.sheet].label
        ident = f"{label}:{item.id}" if label else item.id
        if isinstance(item, Claim):
            who, what = self.claimant(row) or "", item.statement
        elif isinstance(item, Uncertainty):
            who, what = item.kind.value, item.description
        else:
            who, what = f"actor · {item.kind.value}", f"{item.name} — {item.role}"
        style = "strike dim" if sign == "✗" and not self.plain else ""
        return Text(sign + flags), Text(ident), rich_text(who), rich_text(what, style)

    def current(self) -> Row | None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def current_key(self) -> str | None:
        row = self.current() if self.rows else None
        return row.key if row else None

    def update_status(self) -> None:
        checked = total = 0
        for sheet in self.sheets:
            done, left, _ = sheet.reviewed.counts(sheet.brief)
            checked, total = checked + done, total + done + left
        view = VIEWS[self.view] + (
            f", claimant “{inert(self.claimant_filter, newlines=False)}”" if self.claimant_filter else ""
        )
        line = Text(f" {checked} of {total} checked · view: {view} · {len(self.rows)} shown · reviewer ")
        line.append_text(rich_text(self.reviewer))
        self.query_one("#status", Static).update(line)

    def update_detail(self) -> None:
        detail = self.query_one("#detail", Static)
        row = self.current()
        if row is None:
            detail.update(Text("Nothing in this view. Press v for another view, q to quit."))
            return
        sheet, item = self.sheets[row.sheet], row.item
        lines: list[Text] = []
        if isinstance(item, Claim):
            head = Text.assemble((f"{item.id} ", "bold"), rich_text(self.claimant(row), "cyan"))
            if item.source is not None:
                head.append(" — ").append_text(rich_text(item.source.quote, "italic"))
            head.append(f" · {item.status.value}")
            if item.cue is not None:
                head.append(" · cue ").append_text(rich_text(item.cue.quote))
            lines += [head, rich_text(item.statement)]
            if item.check:
                lines.append(Text.assemble(("check: ", "bold yellow"), rich_text(item.check)))
            span = item.evidence
        elif isinstance(item, Uncertainty):
            lines += [
                Text.assemble((f"{item.id} ", "bold"), (item.kind.value, "red"), ": "),
                rich_text(item.description),
            ]
            span = item.evidence
        else:
            actor: Actor = item
            lines += [Text.assemble((f"{actor.id} ", "bold"), rich_text(actor.name, "cyan"), f" · {actor.kind.value}")]
            lines.append(rich_text(actor.role + (f"; also {', '.join(actor.aliases)}" if actor.aliases else "")))
            span = actor.mention
        original = joined(item.claimants) if isinstance(item, Claim) else None
        if said := mark(sheet.reviewed, item.id, original):
            lines.append(Text.assemble(("review: ", "bold green"), rich_text(said)))
        if sheet.label:
            lines.append(Text.assemble(("document: ", "dim"), rich_text(f"{sheet.label} {sheet.path.name}", "dim")))
        lines.append(in_sentence(sheet.text, span, self.plain))
        detail.update(Text("\n").join(lines))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.update_detail()

    # ---------------------------------------------------------------- decisions

    def record(self, row: Row, **change: Any) -> None:
        """Change the decision on ``row``, remember how it was (undo), write the review file; a file that
        cannot be written undoes the change and says why (nothing is shown as kept that was not)."""
        sheet = self.sheets[row.sheet]
        before = sheet.reviewed.of(row.item.id)
        sheet.reviewed.decisions[row.item.id] = decided(row.item, before, self.reviewer, **change)
        if not self.save(row.sheet):
            self.restore(row.sheet, row.item.id, before)
            return
        self.undo_stack.append((row.sheet, row.item.id, before))
        self.advance(row)

    def restore(self, index: int, item_id: str, before: Decision | None) -> None:
        decisions = self.sheets[index].reviewed.decisions
        if before is None:
            decisions.pop(item_id, None)
        else:
            decisions[item_id] = before

    def save(self, index: int) -> bool:
        sheet = self.sheets[index]
        try:
            save_review(sheet.path, sheet.reviewed.to_review(sheet.path.name, sheet.brief))
        except (SummarizerError, OSError) as error:
            self.failed = True
            self.notify(inert(str(error), newlines=False), title="not saved", severity="error", markup=False)
            return False
        return True

    def advance(self, row: Row) -> None:
        """After a decision: the next row (in views that drop decided rows, the one now in its place)."""
        position = next((i for i, r in enumerate(self.rows) if r.key == row.key), 0)
        following = self.rows[position + 1].key if position + 1 < len(self.rows) else row.key
        self.refresh_rows(keep=following)

    def action_accept(self) -> None:
        if row := self.current():
            self.record(row, decision="accepted")

    def action_reject(self) -> None:
        row = self.current()
        if row is None:
            return

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self.record(row, decision="rejected", reason=reason)

        self.push_screen(
            Choose(
                "Reject: why? (Enter chooses, Tab to type one, Esc cancels)", list(REJECT_REASONS), "another reason…"
            ),
            chosen,
        )

    def action_correct(self) -> None:
        row = self.current()
        if row is None or not isinstance(row.item, Claim):
            self.notify("Only a claim has a claimant to correct.", severity="warning")
            return
        sheet = self.sheets[row.sheet]
        names = list(dict.fromkeys(actor.name for actor in sheet.brief.actors))

        def chosen(name: str | None) -> None:
            if name is not None:
                self.record(row, claimant=name)

        self.push_screen(
            Choose("Who asserted it? (Enter chooses, Tab to type a new name, Esc cancels)", names, "a new name…"),
            chosen,
        )

    def action_follow_up(self) -> None:
        if row := self.current():
            found = self.decision(row)
            self.record(row, follow_up=not (found is not None and found.follow_up))

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("Nothing to undo.")
            return
        index, item_id, before = self.undo_stack.pop()
        now = self.sheets[index].reviewed.of(item_id)
        self.restore(index, item_id, before)
        if not self.save(index):
            self.restore(index, item_id, now)
            self.undo_stack.append((index, item_id, before))
            return
        position = next(i for i, item in enumerate(items(self.sheets[index].brief)) if item.id == item_id)
        self.refresh_rows(keep=f"{index}:{position}")

    def action_view(self) -> None:
        self.action_show((self.view + 1) % len(VIEWS))

    def action_show(self, view: int) -> None:
        self.view = view
        self.refresh_rows()

    def action_by_claimant(self) -> None:
        names = sorted(
            {name for row_sheet in self.sheets for claim in row_sheet.brief.claims for name in claim.claimants}
        )

        def chosen(name: str | None) -> None:
            self.claimant_filter = name or None
            self.refresh_rows()

        self.push_screen(Choose("Show one claimant's items (Esc: everyone)", names, "part of a name…"), chosen)
