#!/usr/bin/env python3
"""Export a Hugging Face CLIP model (e.g. one fine-tuned on your own footage) to
the two ONNX files vad loads, plus its tokenizer, then print the
`vad models add` command that registers them.

    pip install "torch>=2.1" "transformers>=4.40" onnx onnxruntime   # onnxruntime only for --check
    python3 models/export/export_clip_onnx.py --model ./my-finetuned-clip --out ./my-clip-onnx --check

--model is anything CLIPModel.from_pretrained accepts: a Hub id
(openai/clip-vit-base-patch32) or the folder a fine-tuning run saved with
save_pretrained (config.json + model.safetensors, with the tokenizer and the
preprocessor config beside them).

Writes into --out:
    onnx/vision_model.onnx   pixel_values [batch, 3, S, S] float32 -> image_embeds [batch, D]
    onnx/text_model.onnx     input_ids, attention_mask [batch, 77] int64 -> text_embeds [batch, D]
    tokenizer.json, tokenizer_config.json, special_tokens_map.json, ...   (CLIPTokenizerFast.save_pretrained)

Both encoders output the projected (not yet normalised) features of
get_image_features / get_text_features, so image and text embeddings share one
space; vad L2-normalises them. Opset 17, dynamic batch axis; the text length
is fixed at the model's context length (77 for CLIP), which vad pads to.
"""

from __future__ import annotations

import argparse
import inspect
import json
import shlex
import sys
from pathlib import Path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="Hub id or folder of a (fine-tuned) transformers CLIPModel")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--name", default=None, help="model name for the printed `vad models add` command")
    parser.add_argument("--image-only", action="store_true", help="export the image encoder only")
    parser.add_argument(
        "--check",
        action="store_true",
        help="run both ONNX files with onnxruntime and compare them with PyTorch",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)

    import torch
    from transformers import CLIPModel, CLIPTokenizerFast

    try:
        from transformers import CLIPImageProcessor
    except ImportError:  # very old transformers
        from transformers import CLIPFeatureExtractor as CLIPImageProcessor

    out: Path = args.out
    (out / "onnx").mkdir(parents=True, exist_ok=True)

    # float32 whatever the checkpoint was saved in: vad feeds float32 pixels.
    model = CLIPModel.from_pretrained(args.model).float()
    model.eval()
    config = model.config

    # Preprocessing the model was trained with; vad resizes the shortest side, centre-crops to
    # the input size and normalises with mean/std, as CLIPImageProcessor does.
    try:
        processor = CLIPImageProcessor.from_pretrained(args.model)
        crop = processor.crop_size
        input_size = int(crop["height"] if isinstance(crop, dict) else crop)
        mean = [float(v) for v in processor.image_mean]
        std = [float(v) for v in processor.image_std]
    except (OSError, ValueError):
        print("note: no preprocessor_config.json; assuming OpenAI CLIP's preprocessing", file=sys.stderr)
        input_size = int(config.vision_config.image_size)
        mean = [0.48145466, 0.4578275, 0.40821073]
        std = [0.26862954, 0.26130258, 0.27577711]
    context_length = int(config.text_config.max_position_embeddings)
    logit_scale = float(model.logit_scale.exp().item())

    def as_tensor(features, tower, projection, *inputs, **kwargs):
        """get_*_features returns a tensor in transformers 4.x; newer versions may wrap it."""
        if isinstance(features, torch.Tensor):
            return features
        # Same computation, spelled out: pooled output of the tower through its projection.
        return projection(tower(*inputs, **kwargs)[1])

    class ImageEncoder(torch.nn.Module):
        def __init__(self, clip: CLIPModel) -> None:
            super().__init__()
            self.clip = clip

        def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
            features = self.clip.get_image_features(pixel_values=pixel_values)
            return as_tensor(
                features, self.clip.vision_model, self.clip.visual_projection, pixel_values=pixel_values
            )

    class TextEncoder(torch.nn.Module):
        def __init__(self, clip: CLIPModel) -> None:
            super().__init__()
            self.clip = clip

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            features = self.clip.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
            return as_tensor(
                features,
                self.clip.text_model,
                self.clip.text_projection,
                input_ids=input_ids,
                attention_mask=attention_mask,
            )

    # The TorchScript exporter (dynamic_axes); newer torch defaults to the dynamo one unless told.
    export_options = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        export_options["dynamo"] = False

    image_path = out / "onnx" / "vision_model.onnx"
    pixels = torch.randn(2, 3, input_size, input_size)
    with torch.no_grad():
        torch.onnx.export(
            ImageEncoder(model),
            (pixels,),
            str(image_path),
            input_names=["pixel_values"],
            output_names=["image_embeds"],
            dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}},
            opset_version=args.opset,
            do_constant_folding=True,
            **export_options,
        )
    print(f"wrote {image_path} ({image_path.stat().st_size / 1e6:.1f} MB)")

    text_path = out / "onnx" / "text_model.onnx"
    if not args.image_only:
        # Padded to the context length with the tokenizer's pad token and a mask, as vad does.
        tokenizer = CLIPTokenizerFast.from_pretrained(args.model)
        samples = ["a photo of a street at night", "a surveillance video of a fight"]
        tokens = tokenizer(
            samples, padding="max_length", max_length=context_length, truncation=True, return_tensors="pt"
        )
        with torch.no_grad():
            torch.onnx.export(
                TextEncoder(model),
                (tokens["input_ids"], tokens["attention_mask"]),
                str(text_path),
                input_names=["input_ids", "attention_mask"],
                output_names=["text_embeds"],
                dynamic_axes={
                    "input_ids": {0: "batch"},
                    "attention_mask": {0: "batch"},
                    "text_embeds": {0: "batch"},
                },
                opset_version=args.opset,
                do_constant_folding=True,
                **export_options,
            )
        print(f"wrote {text_path} ({text_path.stat().st_size / 1e6:.1f} MB)")
        # tokenizer.json (the fast tokenizer), tokenizer_config.json, special_tokens_map.json, vocab, merges.
        tokenizer.save_pretrained(str(out))
        print(f"wrote {out / 'tokenizer.json'}")

    if args.check:
        import numpy as np
        import onnxruntime as ort

        with torch.no_grad():
            want_image = ImageEncoder(model)(pixels).numpy()
        got_image = ort.InferenceSession(str(image_path), providers=["CPUExecutionProvider"]).run(
            ["image_embeds"], {"pixel_values": pixels.numpy()}
        )[0]
        print(f"check: image_embeds max |onnx - torch| = {np.abs(got_image - want_image).max():.2e}")
        if not args.image_only:
            with torch.no_grad():
                want_text = TextEncoder(model)(tokens["input_ids"], tokens["attention_mask"]).numpy()
            got_text = ort.InferenceSession(str(text_path), providers=["CPUExecutionProvider"]).run(
                ["text_embeds"],
                {
                    "input_ids": tokens["input_ids"].numpy().astype(np.int64),
                    "attention_mask": tokens["attention_mask"].numpy().astype(np.int64),
                },
            )[0]
            print(f"check: text_embeds max |onnx - torch| = {np.abs(got_text - want_text).max():.2e}")

    info = {
        "source": args.model,
        "inputSize": input_size,
        "mean": mean,
        "std": std,
        "logitScale": logit_scale,
        "contextLength": context_length,
        "embeddingSize": int(config.projection_dim),
    }
    (out / "vad-export.json").write_text(json.dumps(info, indent=2) + "\n")

    name = args.name or Path(str(args.model).rstrip("/")).name.lower().replace("_", "-")
    command = ["vad", "models", "add", name, "--image", str(image_path.resolve())]
    if not args.image_only:
        command += ["--text", str(text_path.resolve()), "--tokenizer", str(out.resolve())]
    command += ["--input-size", str(input_size)]
    command += ["--mean", ",".join(repr(v) for v in mean), "--std", ",".join(repr(v) for v in std)]
    command += ["--logit-scale", f"{logit_scale:.6g}"]
    command += ["--description", f"CLIP fine-tune exported from {args.model}"]
    print("\nregister it with:\n  " + " ".join(shlex.quote(part) for part in command))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
