"""A `plot_data.Figure` drawn in the terminal with plotext: bars per system, or a scatter."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from compass_tui.plot_data import Figure


class FigurePlot(PlotextPlot):
    def show(self, figure: Figure | None) -> None:
        self.figure = figure
        plt = self.plt
        plt.clear_figure()
        if figure is None or figure.empty:
            plt.title("no data for this figure")
        elif figure.kind == "scatter":
            for series in figure.series:
                plt.scatter(series.x, series.y, label=series.label, marker="dot")
            plt.xlim(0.5, 5.5)
            plt.ylim(0.5, 5.5)
        else:
            self._bars(figure)
        if figure is not None:
            plt.title(f"{figure.title} · {figure.note}")
            plt.xlabel(figure.x_label)
            plt.ylabel(figure.y_label)
        self.refresh()

    def _bars(self, figure: Figure) -> None:
        categories = figure.categories
        labels = [_short(c) for c in categories]
        heights = []
        for series in figure.series:
            values = dict(zip(series.x, series.y))
            heights.append([values.get(c, 0.0) for c in categories])
        if len(heights) == 1:
            self.plt.bar(labels, heights[0], label=figure.series[0].label)
        else:
            legend = [series.label for series in figure.series]
            # plotext takes `labels`; textual_plotext's stub names it `label`
            self.plt.multiple_bar(labels, heights, labels=legend)  # type: ignore[call-arg]


def _short(category: object) -> str:
    """Tool folder names shortened to fit under a bar: film_recommendation -> film_rec."""
    text = str(category)
    head, _, tail = text.partition("_")
    return f"{head}_{tail[:3]}" if tail and len(text) > 10 else text
