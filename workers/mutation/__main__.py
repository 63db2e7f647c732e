from workers.mutation.cli import main

main()
