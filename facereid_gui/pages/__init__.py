"""The pages of the main window, in the order of its tabs: add a page by adding one line here.

Each entry is ``"module:Class"`` relative to this package; the class is a :class:`~.base.Page`.
"""

PAGES: tuple[str, ...] = (
    "compare_page:ComparePage",
    "albums_page:AlbumsPage",
    "charts_page:ChartsPage",
    "train_page:TrainPage",
)
