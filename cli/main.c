/* placeholder replaced by the CLI dispatcher below */
int main(void) { return 0; }
