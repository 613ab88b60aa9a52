import AOCPipe

AOCPipeCommand.main()
