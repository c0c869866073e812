/// The help texts of `loom --help` and `loom help COMMAND`.
enum Help {
    static let topics = ["train", "sample", "evaluate", "export-embeddings", "tagger", "classifier", "charlm", "forecast", "lemmatizer"]

    /// The help text for `topic` (a command or a task), or nil.
    static func topic(_ topic: String) -> String? {
        switch topic {
        case "train", "tagger", "classifier", "charlm", "forecast", "lemmatizer": return train
        case "sample": return sample
        case "evaluate": return evaluate
        case "export-embeddings": return exportEmbeddings
        default: return nil
        }
    }

    static let overview = """
    loom — train, sample and evaluate recurrent networks with Loom

    USAGE
      loom train tagger|classifier|charlm|forecast|lemmatizer [options]
                                                               train an example model
      loom sample --checkpoint PATH [options]                  generate text from a charlm checkpoint
      loom evaluate --checkpoint PATH --data PATH              score a saved model on a data file
      loom export-embeddings --checkpoint PATH --output PATH   write a model's word vectors as text
      loom help COMMAND                                        details (train, sample, evaluate,
                                                               export-embeddings)

    QUICK START
      swift run -c release loom train tagger      # POS tagger on the embedded corpus, a few seconds

    Without --data each task trains on an embedded default dataset (generated in code, no
    download). Exit status: 0 success, 1 training stopped on a NaN/infinite loss or gradient
    norm, 2 bad input (flag, data file, checkpoint), reported as one line on stderr.
    """

    static let train = """
    loom train TASK [options]

    TASKS (default model and set-up; identical for the embedded default and for --data)
      tagger      POS tagging. --data: CoNLL-U (FORM and UPOS; multiword tokens and empty
                  nodes skipped). Vocabulary: training words seen at least twice (<pad>=0,
                  <unk>=1). Embedding(V, 100, padding 0) → 2-layer BiLSTM(128, dropout 0.3)
                  → Linear(256, tags); masked cross-entropy; Adam lr 2e-3; batch 32;
                  clip 5.0. Metric: token accuracy. Epochs: 10 embedded, 5 with --data.
                  --char-features cnn|lstm appends a vector computed from each word's
                  characters to its embedding (see below).
      classifier  Binary sentiment. --data: TSV `label<TAB>text`, labels 0/1. Lowercased
                  whitespace tokens, vocabulary of every training token. Embedding(V, 100)
                  → BiLSTM(128) → [final forward h, final backward h] → Dropout(0.3) →
                  Linear(256, 1); BCE with logits; Adam lr 1e-3; batch 32; clip 5.0.
                  Metric: accuracy. Epochs: 8 embedded, 3 with --data.
      charlm      Character language model. --data: UTF-8 plain text. Vocabulary: every
                  character of the training text. Embedding(vocab, 64) → LSTM(256) →
                  Linear(256, vocab); 32 contiguous streams, chunks of 100 steps, truncated
                  BPTT carrying the detached state; Adam lr 2e-3; clip 5.0. Metric: loss in
                  nats per character. Epochs: 10 embedded, 3 with --data.
      forecast    One-step-ahead forecasting. --data: CSV with a header; the series is the
                  last numeric column. Scaled by the maximum of the training part; windows
                  of 12 → next value; LSTM(1 → 32) → last hidden → Linear(32, 1); MSE;
                  Adam lr 1e-2; full batch. Test: the last 24 points one step ahead; RMSE in
                  the data's units with the seasonal-naive RMSE (season 12) beside it.
                  Epochs: 300.
      lemmatizer  (form, UPOS) → lemma, character by character. --data: CoNLL-U (FORM,
                  LEMMA, UPOS). Examples: the distinct (form, upos, lemma) triples of the
                  training file; evaluation: every token. One symbol table (<pad>, <unk>,
                  <s>, </s>, the UPOS tags, the characters). Encoder: [UPOS] + characters →
                  Embedding(V, 64) → BiLSTM(128). Decoder: the same embedding of the
                  previous symbol plus the previous context → LSTMCell(320 → 256), h0 =
                  tanh(Linear(256, 256)(final states)); additive attention (128) over the
                  encoder outputs, masked by length; Linear(512, V) over [h; context].
                  Edit classes: Linear(256, 3)(final states) says whether the lemma is
                  the form, the form lowercased, or spelled by the decoder. Teacher
                  forcing, masked cross-entropy plus the edit classes' cross-entropy;
                  Adam lr 2e-3; batch 64; clip 5.0. Decoding: greedy and beam search
                  (--beam), at most len(form) + 11 steps. Reports the lowercase
                  baseline, the lexicon, greedy, beam, edit + beam, lexicon + edit +
                  beam, the unseen (form, upos) tokens and the decode time. Metric: token
                  accuracy of lexicon + edit + beam (greedy per epoch on dev). Epochs: 12
                  embedded (a generated inflection corpus), 10 with --data.

    OPTIONS
      --data PATH        training data (default: the task's embedded dataset)
      --dev PATH         validation data (default: the last 10% of the training data;
                         for forecast, the last 10% of the training windows)
      --test PATH        test data, reported at the end (the embedded defaults have their
                         own test part; forecast always tests on the last 24 points)
      --epochs N         number of passes over the training data (default: see above)
      --batch-size N     sentences/texts per batch; streams for charlm (32); forecast
                         defaults to the full batch
      --lr X             Adam learning rate (default: see above)
      --seed N           seed of the one random generator behind initialization, dropout
                         masks and shuffling (default 0); the same seed gives the same
                         weights-checksum for any --threads
      --threads N        threads for the kernels (default: LOOM_NUM_THREADS or all cores)
      --flush-denormals  flush subnormal numbers (below 1.2e-38) to zero, as PyTorch's
                         torch.set_flush_denormal(True): much faster training on CPUs that
                         compute them in microcode (Intel's) when gradients vanish over long
                         sequences; results differ only where a subnormal number arose
      --save PATH        write the trained model as a safetensors checkpoint (PyTorch
                         state_dict names; the vocabularies in its metadata)
      --checkpoint-every N
                         with --save: write a training checkpoint there every N optimizer
                         steps and at the end (model, Adam state, random generator, position
                         in the data); the file is replaced atomically, so it is always a
                         whole checkpoint, even if training is killed
      --resume PATH      continue from a training checkpoint written with --checkpoint-every;
                         the run ends with the same weights-checksum as an uninterrupted one
                         (same task, data and size options; --threads may differ)
      --plot PATH.svg    write the learning curve (training loss, dev metric per epoch)
      --max-tokens N     classifier: keep the first N tokens of each text (before the
                         vocabulary is built)
      --cell lstm|gru    tagger, classifier: the recurrent cell of the encoder (default
                         lstm); the GRU's parameters are saved under gru.*
      --char-features none|cnn|lstm
                         tagger: character features per word (default none). Characters
                         of the training words (Unicode scalars), <pad>=0, <unk>=1.
                         cnn: Embedding(chars, 30) → Conv1d(30 → 50, kernel 3, padding 1)
                         → tanh → max over the word's own characters (50 features).
                         lstm: Embedding(chars, 32) → BiLSTM(32) over every word slot of
                         the batch at once, the padding slots as sequences of length
                         zero → final forward and backward states (64 features).
                         The features are appended to the word embedding.
      --embeddings PATH  tagger, classifier: start the word embedding from pretrained
                         vectors in GloVe/word2vec text format (a word and its numbers per
                         line; an optional word2vec "COUNT DIM" header). The embedding
                         width comes from the file. A vocabulary word takes its own vector,
                         else its lowercase form's; words without one start random. Dev and
                         test words that have a vector but are not in the training
                         vocabulary are added to the vocabulary with their vectors, so the
                         model reads them instead of <unk>. Malformed files stop with
                         file:line.
      --freeze-embeddings
                         with --embeddings: keep the word embedding fixed during training
      --beam K           lemmatizer: beam width of the final decoding (default 4; 0 decodes
                         greedily only)
      --lexicon on|off   lemmatizer: answer (form, upos) pairs seen in training with their
                         most frequent training lemma (ties to the one seen first), decode
                         the rest (default on)
      --edit-classes on|off
                         lemmatizer: the edit classifier (lemma = form, lemma = lowercased
                         form, or spelled by the decoder); off is the reference set-up
                         exactly (default on)

    SMALLER RUNS (quick experiments and tests; not part of the reference set-up)
      --embedding-size N   embedding width instead of the default
      --hidden-size N      LSTM hidden size instead of the default
      --limit N            train on the first N sentences/texts (characters for charlm)

    OUTPUT
      A progress line (updated in place at a terminal) with epoch, step, loss, throughput
      and time left; one summary per epoch with the dev metric; at the end the test metric,
      the checkpoint path if saved, and last `weights-checksum: HEX` (FNV-1a 64 of every
      parameter's bytes in state_dict order).

    EXAMPLES
      loom train tagger --data en_ewt-ud-train.conllu --dev en_ewt-ud-dev.conllu \\
                        --test en_ewt-ud-test.conllu --save tagger.safetensors --plot tagger.svg
      loom train classifier --data imdb_train.tsv --test imdb_test.tsv --max-tokens 400 --epochs 2
      loom train charlm --data tinyshakespeare.txt --save shakespeare.safetensors
      loom train charlm --data tinyshakespeare.txt --save run.safetensors --checkpoint-every 200
      loom train charlm --data tinyshakespeare.txt --save run.safetensors --checkpoint-every 200 --resume run.safetensors
      loom train forecast --data airline_passengers.csv --plot airline.svg
    """

    static let sample = """
    loom sample --checkpoint PATH [options]

    Generates text from a character language model saved by `loom train charlm --save`.

    OPTIONS
      --checkpoint PATH   the charlm checkpoint (required)
      --prime TEXT        text to start from; its characters must be in the model's
                          vocabulary (default: a newline)
      --length N          characters to generate after the prime (default 500)
      --temperature X     divides the logits before sampling: < 1 safer, > 1 wilder (default 0.8)
      --seed N            seed of the sampling (default 0)
      --threads N         threads for the kernels
    """

    static let exportEmbeddings = """
    loom export-embeddings --checkpoint PATH --output PATH

    Writes the word embedding of a tagger or classifier checkpoint as text vectors: one
    line per vocabulary word, `word v1 v2 …` (GloVe format, no header; <pad> and words
    containing whitespace left out), each number with the digits that read back to the
    same Float. `loom train tagger|classifier --embeddings PATH` reads the file back.

    OPTIONS
      --checkpoint PATH   a checkpoint written by `loom train tagger|classifier --save`
      --output PATH       the vectors file to write (replaced atomically)
    """

    static let evaluate = """
    loom evaluate --checkpoint PATH --data PATH

    Rebuilds a model saved by `loom train ... --save` from the checkpoint alone and reports
    its metric on a data file in the task's format:
      tagger       CoNLL-U              token accuracy
      classifier   TSV label<TAB>text   accuracy
      forecast     CSV                  RMSE of the last 24 points one step ahead (and the
                                        seasonal-naive RMSE)
      charlm       plain text           loss in nats per character

    OPTIONS
      --checkpoint PATH   the checkpoint (required)
      --data PATH         the data file (required)
      --threads N         threads for the kernels
    """
}
