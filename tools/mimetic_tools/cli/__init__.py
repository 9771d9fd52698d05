"""The user commands; each module's `main(argv)` is a console script of `pip install ./tools`:

    mimetic-convert                   an original checkpoint -> a Mimetic model file (convert.py)
    mimetic-make-corpus               the synthetic talking-face corpus (make_corpus.py)
    mimetic-train                     train FaceFormer / Imitator / Mimic on it (train.py)
    mimetic-evaluate                  metrics on the unseen test speakers (evaluate.py)
    mimetic-report                    Markdown table + plots from evaluate's results (report.py)
    mimetic-render                    pictures and MP4 of an animation (render.py)
    mimetic-bench                     Mimetic against the PyTorch reference at full size (bench.py)
    mimetic-export-reference          corpus clips as `mimetic personalize --ref` files (export_reference.py)
    mimetic-measure-personalization   personalisation error and timing (measure_personalization.py)

`python -m mimetic_tools.cli.<module>` runs the same command.
"""
