# bench/treeboostler_time.py: runs TreeBoostler itself (Azevedo Santos et al.; its Python from
# github.com/ThaisLuca/TreeBoostler, a fork of rodrigoazs/TreeBoostler, with its BoostSRL fork
# rodrigoazs/BoostSRL built into boostsrl/v1-0.jar) on the protocol of its transfer_experiment.py:
# the source trees from resources/<id>_<source>_<target>/ (its learn_from_source = False), train on
# target fold i, test on the others, revision.theory_revision (parameter learning, then one
# revision, kept when its training CLL is better), one run. Prints one JSON line per fold: the
# wall-clock seconds of the fold (mapping, parameter learning, revision, their test inference and
# training-set scoring: what `tl rel-transfer` does on a fold, less its scratch run) and the AUCs.
#
#   cd TREEBOOSTLER_RUN_DIR && python3 treeboostler_time.py ID SOURCE TARGET PRED TO_PRED [FOLDS]
#
# Run by bench/treeboostler.sh, which prepares the folder. pandas, unidecode and psutil are
# imported by TreeBoostler's modules but never called for IMDB, UW-CSE and Cora: the script puts
# empty stand-ins first on the path when Debian's Python lacks them.
import json
import os
import pickle
import random
import sys
import time
from shutil import copyfile

sys.path.insert(0, os.path.join(os.getcwd(), 'shim'))
sys.path.insert(0, os.getcwd())
from datasets.get_datasets import datasets  # noqa: E402
from revision import revision  # noqa: E402
from transfer import transfer  # noqa: E402
from boostsrl import boostsrl  # noqa: E402

src = open('transfer_experiment.py').read()
start = src.index('bk = {')
exec(src[start:src.index('\n      }\n', start) + 9])  # TreeBoostler's own mode declarations: bk
_id, source, target, predicate, to_predicate = sys.argv[1:6]
folds = [int(x) for x in sys.argv[6].split(',')] if len(sys.argv) > 6 else None
log = open('tb_%s.log' % _id, 'w')


def pf(m):
    print(m, file=log)
    log.flush()


copyfile('resources/{}_{}_{}/refine.txt'.format(_id, source, target), 'boostsrl/refine.txt')
with open('resources/{}_{}_{}/source_structured_nodes.pkl'.format(_id, source, target), 'rb') as f:
    source_structured = pickle.load(f)
total = datasets.load(target, bk[target], seed=441773)  # noqa: F821 (bk from exec)
data = datasets.load(target, bk[target], target=to_predicate, balanced=False, seed=441773)  # noqa: F821
for i in range(len(total[0])):
    if folds and (i + 1) not in folds:
        continue
    tr_f, te_f = datasets.get_kfold_small(i, data[0])
    tr_p, te_p = datasets.get_kfold_small(i, data[1])
    tr_n, te_n = datasets.get_kfold_small(i, data[2])
    random.shuffle(tr_p)
    random.shuffle(tr_n)
    t0 = time.time()
    tr_file = transfer.get_transfer_file(bk[source], bk[target], predicate, to_predicate,  # noqa: F821
                                         searchArgPermutation=True, allowSameTargetMap=False)
    background = boostsrl.modes(bk[target], [to_predicate], useStdLogicVariables=False,  # noqa: F821
                                maxTreeDepth=3, nodeSize=2, numOfClauses=8)
    _, res, _, pl = revision.theory_revision(background, boostsrl, target, tr_p, tr_n, tr_f, te_p,
                                             te_n, te_f, source_structured, transfer=tr_file,
                                             trees=10, max_revision_iterations=1, print_function=pf)
    print(json.dumps({'fold': i + 1, 'wall_s': time.time() - t0,
                      'tb_learning_time_s': res['Learning time'],
                      'revision': {k: res[k] for k in ('AUC ROC', 'AUC PR', 'CLL')},
                      'parameter': {k: pl[k] for k in ('AUC ROC', 'AUC PR', 'CLL')}}), flush=True)
