"""How the simulation's small compiled functions are compiled: borrowing their arrays.

Numba counts references to every array passed into a compiled function, and it counted each
array of the lever tuple (six of them) and the parameters in and out of every rule applied,
thousands of times a replication.  The counts are atomic operations, and they took two fifths
of the compiled engine's time.  A function that allocates no array and keeps none needs no
counting: its arrays stay alive in its caller.  Such functions are compiled with
:data:`borrows_arrays` (Numba's runtime off for them), and a function that needs to allocate
fails to compile rather than leak.
"""

from __future__ import annotations

from numba import njit

#: ``@borrows_arrays``: compile a function that allocates and keeps no array (see above).
borrows_arrays = njit(cache=True, _nrt=False)
