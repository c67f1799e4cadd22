package mpsc_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ecs-realm/realm/libs/mpsc"
)

func Example() {
	q := mpsc.New[string](mpsc.Config{})
	q.Push("spawn")
	q.Push("move")
	for {
		v, ok := q.Pop()
		if !ok {
			break
		}
		fmt.Println(v)
	}
	// Output:
	// spawn
	// move
}

// The world service's shape: message callbacks push from many goroutines, and
// the game loop drains everything pending once per tick.
func ExampleQueue_Drain() {
	type input struct {
		player, seq int
	}
	q := mpsc.New[input](mpsc.Config{})

	var wg sync.WaitGroup
	for player := range 4 { // stand-ins for NATS callback goroutines
		wg.Go(func() {
			for seq := range 1000 {
				q.Push(input{player, seq})
			}
		})
	}
	wg.Wait()

	// One tick of the game loop.
	applied := 0
	last := map[int]int{}
	q.Drain(func(in input) {
		last[in.player] = in.seq // each player's inputs arrive in order
		applied++
	})
	fmt.Println(applied, last[0], last[3])
	// Output: 4000 999 999
}

// PopBatch bounds the work of one call, for a tick with a budget.
func ExampleQueue_PopBatch() {
	q := mpsc.New[int](mpsc.Config{})
	for i := range 10 {
		q.Push(i)
	}
	buf := make([]int, 4)
	for {
		n := q.PopBatch(buf)
		if n == 0 {
			break
		}
		fmt.Println(buf[:n])
	}
	// Output:
	// [0 1 2 3]
	// [4 5 6 7]
	// [8 9]
}

// A consumer that has nothing else to do sleeps in Wait until an item arrives.
func ExampleQueue_Wait() {
	q := mpsc.New[string](mpsc.Config{})
	go q.Push("hello")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Wait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	v, _ := q.Pop()
	fmt.Println(v)
	// Output: hello
}

// A game loop sleeps until the next tick or until an item arrives, whichever
// comes first, and drains what is pending.
func ExampleQueue_Ready() {
	q := mpsc.New[int](mpsc.Config{})
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()

	go func() {
		for i := range 3 {
			q.Push(i)
		}
	}()

	sum := 0
	for got := 0; got < 3; {
		select {
		case <-q.Ready():
		case <-tick.C:
		}
		got += q.Drain(func(v int) { sum += v })
	}
	fmt.Println(sum)
	// Output: 3
}
