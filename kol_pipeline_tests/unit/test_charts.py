import pandas as pd

from kol_pipeline.lib.reporting.charts import finite_values, png_markdown, svg


def test_nulls_become_gaps_not_zeros():
    got = finite_values([1, None, float("nan"), pd.NA, 2.5])
    assert got[0] == 1.0 and got[4] == 2.5
    assert all(v != v for v in got[1:4])


def test_charts_render_with_missing_values():
    md = png_markdown("bar", {"a": [0.1, pd.NA, None]}, ["micro", "mid", "top"], "er_7d by tier")
    assert md.startswith("![er_7d by tier](data:image/png;base64,") and len(md) > 1000
    s = svg("line", {"x": [1.0, None, 3.0]}, ["d1", "d2", "d3"], "curve")
    assert s.startswith("<svg") and "curve" in s


def test_scatter_leaves_out_points_missing_a_value():
    from kol_pipeline.lib.reporting.charts import scatter_png_markdown, scatter_points

    pts = scatter_points({"Glow": ([0.1, None, 0.3, float("nan")], [0.5, 0.6, pd.NA, 0.7]), "Lumi": ([0.2], [0.4])})
    assert pts == {"Glow": ([0.1], [0.5]), "Lumi": ([0.2], [0.4])}
    md = scatter_png_markdown({"Glow": ([0.1, 0.2], [0.5, 0.3])}, "affinity vs er", "er_7d", "affinity")
    assert md.startswith("![affinity vs er](data:image/png;base64,") and len(md) > 1000
