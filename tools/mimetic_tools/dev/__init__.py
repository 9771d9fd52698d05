"""Developer-only tools: they regenerate what the repository's tests compare against, or check the
Swift port at full size. Run them from a checkout, as modules:

    python -m mimetic_tools.dev.make_fixtures [--out Tests/Fixtures] [--only case1,case2]
    python -m mimetic_tools.dev.make_personalization_fixture
    python -m mimetic_tools.dev.parity_full [--seconds 3.5] [--only faceformer_vocaset,mimic_conv]

make_fixtures: the golden parity fixtures in Tests/Fixtures (PyTorch reference -> converter).
make_personalization_fixture: autograd gradients of the Imitator adaptation objective.
parity_full: stage-by-stage parity of the `mimetic stages` CLI at the released models' sizes.
"""
