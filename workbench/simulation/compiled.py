"""How the simulation's small compiled functions are compiled: borrowing their arrays.

Numba counts references to every array passed into a compiled function, and it counted each
array of the lever tuple (six of them) and the parameters in and out of every rule applied,
thousands of times a replication.  The counts are atomic operations, and they took two fifths
of the compiled engine's time.  A function that allocates no array and keeps none needs no
counting: its arrays stay alive in its caller.  Such functions are compiled with
:data:`borrows_arrays` (Numba's runtime off for them), and a function that needs to allocate
fails to compile rather than leak.

The compiled engine's event handlers go one step further (:data:`handler`): each is compiled
into the main loop where it is called, so the run's forty-odd arrays are not passed to a
function on every event (passed, they made the engine twice as slow), and the loop runs with
no reference counting at all.
"""

from __future__ import annotations

from numba import njit

#: ``@borrows_arrays``: compile a function that allocates and keeps no array (see above).
borrows_arrays = njit(cache=True, _nrt=False)

#: ``@handler``: an event's handler or a review's action in the compiled engine: inlined by Numba
#: where it is called, and borrowing its arrays (see above).  Only a function that borrows its
#: arrays may call one, or the inlined code would count references again.
handler = njit(cache=True, _nrt=False, inline="always")
