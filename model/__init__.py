"""The hate-speech model: data -> tokenizer -> BERT training -> metrics -> ONNX -> champion/challenger.

Modules: data (CSV loading and splits), synthetic (test data), tokenizer, settings (TrainSettings
and presets), network, loops (pre-training and fine-tuning), export (ONNX and its checks), report
(plot, model card), train (the artifact folder), metrics, evaluate and compare (numpy only, no
torch: the release providers import them). Command line: `python -m model --help`.
"""
