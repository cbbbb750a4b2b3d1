"""TreeView adapters over the plain rows of `data.py` (scenes, placements, loaded scenes).

A row is any object with `HEADERS` and `columns()`; one model and one delegate serve all three
lists, flat (no children), one string model per cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import omni.ui as ui

__all__ = ["Row", "RowDelegate", "RowItem", "RowListModel"]


class Row(Protocol):
    HEADERS: ClassVar[tuple[str, ...]]

    def columns(self) -> tuple[str, ...]: ...


class RowItem(ui.AbstractItem):  # type: ignore[misc]
    def __init__(self, row: Row) -> None:
        super().__init__()
        self.row = row
        self.cells = [ui.SimpleStringModel(text) for text in row.columns()]


class RowListModel(ui.AbstractItemModel):  # type: ignore[misc]
    """A flat list of rows; `set_rows` replaces them and tells the view to redraw."""

    def __init__(self, headers: Sequence[str]) -> None:
        super().__init__()
        self.headers = tuple(headers)
        self.items: list[RowItem] = []

    def set_headers(self, headers: Sequence[str]) -> None:
        """Other columns (the scene list's differ between API generations); rows go with them."""
        self.headers = tuple(headers)
        self.set_rows([])

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.items = [RowItem(row) for row in rows]
        self._item_changed(None)

    def get_item_children(self, item: Any = None) -> list[RowItem]:
        return self.items if item is None else []

    def get_item_value_model_count(self, item: Any = None) -> int:
        return len(self.headers)

    def get_item_value_model(self, item: Any = None, column_id: int = 0) -> Any:
        return item.cells[column_id] if isinstance(item, RowItem) else None

    def destroy(self) -> None:
        self.items = []


class RowDelegate(ui.AbstractItemDelegate):  # type: ignore[misc]
    """Header labels from the model's headers, one label per cell."""

    def __init__(self, headers: Sequence[str]) -> None:
        super().__init__()
        self._headers = tuple(headers)

    def build_branch(
        self,
        model: Any,
        item: Any = None,
        column_id: int = 0,
        level: int = 0,
        expanded: bool = False,
    ) -> None:
        """Flat lists have no expand arrows."""

    def build_header(self, column_id: int = 0) -> None:
        ui.Label(self._headers[column_id], height=22, style={"font_size": 14})

    def build_widget(
        self,
        model: Any,
        item: Any = None,
        column_id: int = 0,
        level: int = 0,
        expanded: bool = False,
    ) -> None:
        if isinstance(item, RowItem):
            text = item.cells[column_id].get_value_as_string()
            ui.Label(text, height=20, tooltip=text, elided_text=True)
